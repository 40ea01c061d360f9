//! Rule-based slot extractors. Every extractor works on speech-recognition style text:
//! lowercase, no punctuation, numbers as words, fillers, recognition errors.

pub mod choice;
pub mod datetime;
pub mod lexicon;
pub mod location;
pub mod name;
pub mod normalize;
pub mod numbers;
pub mod phone;
pub mod phonetic;
pub mod reference;
pub mod roles;
pub mod yes_no;
