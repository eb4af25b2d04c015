"""How a search walks its space, besides the grid (the grid is the driver's, ``driver.py``):

- ``grow.py``: the grow strategy, from the simplest config up while bigger keeps paying;
- ``halving.py``: successive halving inside one stack (the worst configs stop at each rung).
"""
