"""The conveyor sorter model and its agent on the bus."""
