"""The scenario language: schema, checks, loader, errors, distributions, parameters by path, editing, readable
names, seed digests, observed-outcomes and targets files."""
