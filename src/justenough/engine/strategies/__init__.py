"""How a search walks its space; the driver (``driver.py``) runs them:

- ``grid.py``: the grid, every config, the costliest stacks first (the simplest first under a time budget);
- ``grow.py``: the grow strategy, from the simplest config up while bigger keeps paying;
- ``halving.py``: successive halving inside one stack (the worst configs stop at each rung).
"""
