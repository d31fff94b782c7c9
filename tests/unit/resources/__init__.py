"""Generic resources: the model file reader and the draft writer."""
