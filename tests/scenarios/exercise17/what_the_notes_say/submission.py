"""Answers taken from the course notes at face value, where they are loose."""
q1 = ()           # "t = torch.Tensor(5)" read as the number 5
q2 = "float32"    # torch.full assumed to make floats
q3 = (5, 10)      # the keyword value= assumed to work
q4 = "float32"    # rand_like assumed to pick a float dtype by itself
q5 = "float32"    # dtype=float read as torch.float
q6 = (7,)         # .item() assumed to keep the brackets
