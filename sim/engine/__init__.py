"""The negotiation engine, shaped like a Mesa model folder: rules, streams, world, agents, model, outcomes."""
