"""An infinite loop while the file is loaded.

Expected: both tasks time out with feedback about an endless loop at the top
level, after the import timeout.

exercise: exercise3
score: 0
status: cube_grad=timeout cube_second_grad=timeout
feedback: cube_grad ~ loading your file took longer than
feedback: cube_grad ~ endless loop
"""

while True:
    pass
