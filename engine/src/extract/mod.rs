//! Rule-based slot extractors. Every extractor works on speech-recognition style text:
//! lowercase, no punctuation, numbers as words, fillers, recognition errors.

pub(crate) mod choice;
pub mod datetime;
pub(crate) mod lexicon;
pub mod location;
pub mod name;
pub mod normalize;
pub mod numbers;
pub mod phone;
pub(crate) mod phonetic;
pub mod reference;
pub(crate) mod roles;
pub mod service;
pub mod vehicle;
pub mod yes_no;
