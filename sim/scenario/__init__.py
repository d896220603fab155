"""The scenario language: schema, loader, distributions, uncertain parameters, readable names, seed digest."""
