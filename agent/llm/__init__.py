"""The model: LLM, its helper process, replies, redaction, prompt caching, rehearsal."""
