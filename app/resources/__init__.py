"""Generic stateful resources: any provider's pact plus a model file (or inference) served from state."""
