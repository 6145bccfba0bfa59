"""Running the stack: the shared service description and the local-process launcher."""
