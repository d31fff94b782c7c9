"""Jobs, runs and uploads: what the Epistemix and S3 mocks remember, without HTTP."""
