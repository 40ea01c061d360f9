//! Which of the business's services the caller wants ("a haircut", "my roots are showing"), by
//! the names and aliases in configuration. The longest phrase wins; of several services named,
//! the last one said ("a trim, actually make it a color").

use super::normalize::tokens;
use crate::business::Service;

/// The services prepared for matching.
#[derive(Debug, Clone, Default)]
pub struct ServiceCatalog {
    services: Vec<Service>,
    /// Every name and alias as words, with the service's index.
    phrases: Vec<(Vec<String>, usize)>,
}

impl ServiceCatalog {
    /// The catalogue of a business's `services`.
    pub fn new(services: &[Service]) -> ServiceCatalog {
        let mut phrases: Vec<(Vec<String>, usize)> = services
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                std::iter::once(&s.name)
                    .chain(&s.aliases)
                    .map(move |name| (tokens(name), i))
            })
            .filter(|(words, _)| !words.is_empty())
            .collect();
        // Longest first, so "deep clean" beats "clean" at the same place.
        phrases.sort_by_key(|(words, _)| std::cmp::Reverse(words.len()));
        ServiceCatalog {
            services: services.to_vec(),
            phrases,
        }
    }

    /// Service names, for speech recognition hints.
    pub fn hints(&self) -> Vec<String> {
        self.services.iter().map(|s| s.name.clone()).collect()
    }

    /// The service named last in `text`, if any.
    pub fn find(&self, text: &str) -> Option<&Service> {
        let words = tokens(text);
        let mut found = None;
        let mut i = 0;
        while i < words.len() {
            let hit = self.phrases.iter().find(|(phrase, _)| {
                words
                    .get(i..i + phrase.len())
                    .is_some_and(|window| window == phrase.as_slice())
            });
            match hit {
                Some((phrase, index)) => {
                    found = Some(*index);
                    i += phrase.len();
                }
                None => i += 1,
            }
        }
        found.and_then(|i| self.services.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> ServiceCatalog {
        let services: Vec<Service> = serde_saphyr::from_str(
            r#"
- { name: haircut, minutes: 30, aliases: [trim, cut my hair, hair cut] }
- { name: blowout, minutes: 60, aliases: [blow dry, blowdry, styled for a wedding] }
- { name: color, minutes: 120, aliases: [highlights, dye, roots are showing, roots] }
"#,
        )
        .unwrap();
        ServiceCatalog::new(&services)
    }

    fn find(text: &str) -> Option<String> {
        catalog().find(text).map(|s| s.name.clone())
    }

    #[test]
    fn services_by_name_and_by_what_callers_say() {
        assert_eq!(find("i need a haircut").as_deref(), Some("haircut"));
        assert_eq!(find("my roots are showing again").as_deref(), Some("color"));
        assert_eq!(
            find("uh i need to get styled for a wedding").as_deref(),
            Some("blowout")
        );
        assert_eq!(
            find("a trim actually no make it highlights").as_deref(),
            Some("color")
        );
        assert_eq!(find("tomorrow at two"), None);
    }
}
