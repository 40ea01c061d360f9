//! Speaking values naturally (placeholder, being written)
