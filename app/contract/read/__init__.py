"""Reading pact files: the loader, normalising to the model, the fast and streaming scanners, lazy compile."""
