//! Knowledge retrieval (placeholder, being written)
