//! Everyday English words by class, for telling ordinary talk from names and place names.
//!
//! Asked for their name, callers say all sorts of things ("hold on let me step outside",
//! "sometime next week", "one thing first"). A word that is a verb, adverb, preposition,
//! adjective, common noun or function word of everyday English is not a name, unless it is
//! also a common given name or surname ("will", "rose", "young", "banks"). The same list tells
//! the location matcher which heard words are real words, which need stronger evidence before
//! they are taken for a misheard place name. Inflected forms are found from their base
//! ("stepping" -> "step", "quickly" -> "quick", "charges" -> "charge").

use std::collections::HashMap;
use std::sync::LazyLock;

/// What kind of word an everyday English word is (its most common use on the phone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordClass {
    /// Pronouns, determiners, prepositions, conjunctions, auxiliaries, contractions.
    Function,
    Verb,
    Adverb,
    Adjective,
    Noun,
    /// Numbers and ordinals said as words.
    Number,
    /// Acknowledgements, greetings and sounds ("yeah", "okay", "hello").
    Interjection,
}

const FUNCTION: &str = "\
a an the this that these those there here it its itself i im ive id ill me my mine myself \
you youre youve youd youll your yours yourself we were weve wed well us our ours ourselves \
they theyre theyve theyd theyll them their theirs he hes him his she shes her hers it \
whats thats theres heres whos wheres hows lets who whom whose which what when where why \
how whatever whenever wherever whoever some any every each all both either neither none \
another other others such no not nor and or but so yet because cause cuz although though \
while whilst if unless whether than then as of to for from by with without within into \
onto upon in on at about above across after against along among around before behind \
below beneath beside besides between beyond despite during except inside near off out \
outside over past since through throughout till until toward towards under underneath \
up down via per like unlike am is are was be been being have has had having do does did \
done doing will would shall should can could may might must ought dont doesnt didnt isnt \
arent wasnt werent hasnt havent hadnt wont wouldnt shant shouldnt cant cannot couldnt \
mustnt aint gonna wanna gotta lemme gimme kinda sorta everything everyone everybody \
something someone somebody anything anyone anybody nothing nobody somewhere anywhere \
everywhere nowhere";

const VERBS: &str = "\
go went gone come came get got gotten give gave given take took taken make made know knew \
known think thought say said tell told call ask need want like love hate look see saw seen \
hear heard put let set try move stop start check keep help work run ran turn leave left \
bring brought hold held wait step walk talk speak spoke spoken book schedule reschedule \
cancel fix repair replace install clean service pay paid charge cost send sent show find \
found mean meant guess wonder hope wish feel felt seem happen change switch finish begin \
began begun end open close shut live stay sit sat stand stood lie lay sleep slept eat ate \
drink drive drove driven ride rode fly flew write wrote read buy bought sell sold use \
hang hung pick drop pull push carry catch caught cut break broke broken fall fell fallen \
hit hurt kick knock lose lost miss win won own rent owe let allow remember forget forgot \
understand understood believe suppose figure learn teach taught explain mention answer \
reply respond return visit arrive leave head hurry rush spend spent save plan expect \
decide choose chose chosen agree confirm deny mind matter care bother worry listen watch \
notice sound smell taste touch test blow blew blown cool heat warm freeze froze frozen \
leak drip run smoke spark burn burnt shake rattle buzz hum click beep squeal grind \
vibrate stall trip reset restart plug unplug connect fill empty drain flush pump crack \
rust wear wore worn last fit belong include contain cover handle manage deal dealt \
text email phone dial ring rang rung reach transfer put grab step grab hop jump climb \
kill die died stick stuck get earn pass cross follow lead led meet met join share \
sign order wash dry fold iron cook bake boil fry feed fed grow grew grown raise rise \
rose risen wake woke awake bet bid bite bit bleed bless blow breed build built burst \
cast cling creep dig dug draw drew drawn dream dwell fight fought flee fling forbid \
forgive forgave freeze hide hid kneel knit lend lent light lit mistake quit ride seek \
sought shine shone shoot shot sing sang sung sink sank slide slid spin spun split \
spread spring sprang sting stung stink strike struck swear swore sweep swept swim swam \
swing swung tear tore throw threw thrown thrust tread weep wept wind wound wring \
happen appreciate apologize mess repeat";

const ADVERBS: &str = "\
now then later soon again already still just also only really very quite too so back \
away out off sometime sometimes maybe perhaps probably possibly actually first last next \
ahead anyway anyhow anymore ever never always often usually rarely seldom once twice \
today tonight tomorrow yesterday tonite here there everywhere else instead almost nearly \
about around enough rather pretty fairly kinda somewhat definitely certainly absolutely \
exactly totally completely entirely fully hardly barely recently lately early late \
earlier sooner quickly asap together apart alone forward backward upstairs downstairs \
inside outside indoors outdoors overnight meanwhile otherwise therefore however besides \
anyways right straight soon yet even ago abroad nearby altogether honestly seriously \
literally basically obviously apparently hopefully unfortunately luckily thankfully \
regardless please";

const ADJECTIVES: &str = "\
good bad fine great okay ok sure ready free busy loud quiet noisy hot cold warm cool \
big small little large huge tiny long short high low new old young full empty open \
closed broken wrong right correct true false real whole half best better worse worst \
nice happy sad glad sorry tired sick ill well able unable available possible impossible \
important urgent quick slow fast early late easy hard difficult simple clear sure certain \
different same similar other next last previous final main only own whole entire extra \
main usual normal strange weird odd funny serious safe dangerous dead alive dirty clean \
wet dry dark bright heavy light fresh stale cheap expensive pricey affordable reasonable \
fair awful terrible horrible perfect excellent wonderful lovely awesome cool fantastic \
super amazing crazy stuck frozen leaky smelly humid muggy chilly freezing boiling burning \
stuffy drafty several many much more most less least few plenty enough various local \
nearby close far upstairs downstairs front backyard central electric electrical gas \
manual digital automatic outdoor indoor current recent regular weekly monthly yearly \
annual daily whole total basic standard sorry confused lost worried scared afraid \
concerned upset frustrated annoyed patient ready done finished okay alright";

const NOUNS: &str = "\
thing things stuff info information question questions problem issue trouble matter \
reason idea way kind sort type part piece bit lot minute minutes second sec seconds \
moment hour hours day days week weeks month months year years time times morning \
afternoon evening night noon midnight weekend weekday monday tuesday wednesday thursday \
friday saturday sunday january february march april june july august september october \
november december spring fall autumn winter summer season date schedule appointment \
visit trip charge fee price cost rate estimate quote bill invoice payment deposit cash \
check card credit money dollar dollars cent cents buck bucks tax discount coupon deal \
service repair maintenance tune checkup inspection installation install replacement \
warranty plan contract membership home house apartment condo place office work job \
building business store shop company garage basement attic kitchen bathroom bedroom \
room closet hallway hall yard roof wall floor ceiling window door porch driveway street \
road address city town area zip code neighborhood side location unit system ac air \
conditioner conditioning heat heater heating furnace boiler pump compressor condenser \
coil coils fan fans motor blower filter filters duct ducts vent vents thermostat \
breaker fuse wire wires wiring pipe pipes drain line lines water leak leaks gas smell \
smoke fire spark sparks noise noises sound sounds alarm detector carbon monoxide \
battery batteries switch button screen display light lights power outlet plug cord \
refrigerant freon ice frost mold dust temperature degree degrees thermometer setting \
mode cooling humidity pressure part parts model brand serial tech techs technician \
guy guys person people someone man woman lady sir maam kid kids child children baby \
infant mom mother dad father wife husband son daughter family friend neighbor landlord \
tenant owner boss manager customer client company phone number cell mobile landline \
line call message voicemail text email name names spelling letter letters first last \
middle end start beginning middle front back top bottom inside outside car truck van \
dog cat pet pets food dinner lunch breakfast coffee meeting class school church \
hospital doctor dentist appointment shift record file account order reference \
confirmation thanks help emergency hurry rush problem glitch error mistake sorry \
car traffic weather rain storm outage heatwave human agent representative operator \
hvac pm word words link";

const NUMBERS: &str = "\
zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen \
fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy \
eighty ninety hundred thousand million first second third fourth fifth sixth seventh \
eighth ninth tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth \
seventeenth eighteenth nineteenth twentieth thirtieth couple dozen half quarter";

const INTERJECTIONS: &str = "\
yes yeah yea yep yup ya yah no nope nah naw ok okay k alright hello hi hey hiya howdy \
bye goodbye thanks thank cheers please sorry oops whoops wow oh ah aha huh hmm mhm uh \
um er erm uhhuh yikes gosh geez jeez damn darn shoot dang sure cool great awesome \
perfect whatever anyway anyways sec";

/// Words above that are also common given names or surnames: a caller may well be called
/// "Will Banks" or "Rose Young".
const ALSO_NAMES: &str = "\
april august autumn best bill bright buck burns cash childs church cook cross day drew early \
frost fuller guy hall hope house june little long love may power powers price rose short \
small sparks summer waters will winter winters young";

/// Every listed word with its class; a word listed twice keeps its first class.
static LEXICON: LazyLock<HashMap<&'static str, WordClass>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for (words, class) in [
        (FUNCTION, WordClass::Function),
        (INTERJECTIONS, WordClass::Interjection),
        (NUMBERS, WordClass::Number),
        (VERBS, WordClass::Verb),
        (ADVERBS, WordClass::Adverb),
        (ADJECTIVES, WordClass::Adjective),
        (NOUNS, WordClass::Noun),
    ] {
        for w in words.split_whitespace() {
            map.entry(w).or_insert(class);
        }
    }
    map
});

static NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut names: Vec<&str> = ALSO_NAMES.split_whitespace().collect();
    names.sort_unstable();
    names.dedup();
    names
});

/// The class of an everyday English word, or of the base it is inflected from ("stepping",
/// "charges", "quickly", "louder"). `None` for words outside the list (most names).
/// Expects a normalized word: lowercase, no apostrophes.
pub fn word_class(word: &str) -> Option<WordClass> {
    if let Some(class) = LEXICON.get(word) {
        return Some(*class);
    }
    let base = |stem: &str, classes: &[WordClass]| {
        LEXICON
            .get(stem)
            .copied()
            .filter(|c| classes.contains(c))
            .is_some()
    };
    let verb_forms = |stem: &str| -> bool {
        let undoubled = undouble(stem);
        base(stem, &[WordClass::Verb])
            || base(&format!("{stem}e"), &[WordClass::Verb])
            || undoubled.is_some_and(|u| base(u, &[WordClass::Verb]))
    };
    if let Some(stem) = word.strip_suffix("ing").filter(|s| s.len() >= 2)
        && verb_forms(stem)
    {
        return Some(WordClass::Verb);
    }
    if let Some(stem) = word.strip_suffix("ied") {
        if base(&format!("{stem}y"), &[WordClass::Verb]) {
            return Some(WordClass::Verb);
        }
    } else if let Some(stem) = word.strip_suffix("ed").filter(|s| s.len() >= 2)
        && verb_forms(stem)
    {
        return Some(WordClass::Verb);
    }
    if let Some(stem) = word.strip_suffix("ily")
        && base(&format!("{stem}y"), &[WordClass::Adjective])
    {
        return Some(WordClass::Adverb);
    }
    if let Some(stem) = word.strip_suffix("ly")
        && base(stem, &[WordClass::Adjective])
    {
        return Some(WordClass::Adverb);
    }
    for suffix in ["er", "est"] {
        if let Some(stem) = word.strip_suffix(suffix).filter(|s| s.len() >= 2)
            && (base(stem, &[WordClass::Adjective])
                || base(&format!("{stem}e"), &[WordClass::Adjective])
                || undouble(stem).is_some_and(|u| base(u, &[WordClass::Adjective])))
        {
            return Some(WordClass::Adjective);
        }
    }
    let plural = |stem: &str| {
        LEXICON
            .get(stem)
            .copied()
            .filter(|c| matches!(c, WordClass::Noun | WordClass::Verb))
    };
    if let Some(stem) = word.strip_suffix("ies")
        && let Some(class) = plural(&format!("{stem}y"))
    {
        return Some(class);
    }
    if let Some(stem) = word.strip_suffix("es")
        && let Some(class) = plural(stem)
    {
        return Some(class);
    }
    word.strip_suffix('s')
        .filter(|s| !s.ends_with('s'))
        .and_then(plural)
}

/// "stopp" -> "stop", "runn" -> "run": the stem of a doubled-consonant inflection.
fn undouble(stem: &str) -> Option<&str> {
    let bytes = stem.as_bytes();
    let n = bytes.len();
    (n >= 3 && bytes[n - 1] == bytes[n - 2]).then(|| &stem[..n - 1])
}

/// Whether the word is everyday English (listed, or inflected from a listed word).
pub fn is_common_word(word: &str) -> bool {
    word_class(word).is_some()
}

/// Whether the word, though it may be everyday English, is also a common given name or surname.
pub fn is_also_name(word: &str) -> bool {
    NAMES.binary_search(&word).is_ok()
}

/// Whether the word can be (part of) a person's name: not everyday English, or a word that is
/// also a common name.
pub fn may_be_name(word: &str) -> bool {
    is_also_name(word) || !is_common_word(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_of_listed_words() {
        assert_eq!(word_class("before"), Some(WordClass::Function));
        assert_eq!(word_class("outside"), Some(WordClass::Function));
        assert_eq!(word_class("loud"), Some(WordClass::Adjective));
        assert_eq!(word_class("sometime"), Some(WordClass::Adverb));
        assert_eq!(word_class("step"), Some(WordClass::Verb));
        assert_eq!(word_class("charge"), Some(WordClass::Verb));
        assert_eq!(word_class("seven"), Some(WordClass::Number));
    }

    #[test]
    fn inflections_find_their_base() {
        assert_eq!(word_class("stepping"), Some(WordClass::Verb));
        assert_eq!(word_class("moving"), Some(WordClass::Verb));
        assert_eq!(word_class("stopped"), Some(WordClass::Verb));
        assert_eq!(word_class("hurried"), Some(WordClass::Verb));
        assert_eq!(word_class("quickly"), Some(WordClass::Adverb));
        assert_eq!(word_class("louder"), Some(WordClass::Adjective));
        assert_eq!(word_class("charges"), Some(WordClass::Verb));
        assert_eq!(word_class("batteries"), Some(WordClass::Noun));
    }

    #[test]
    fn names_are_not_everyday_words() {
        for name in [
            "maria",
            "garcia",
            "nguyen",
            "whitfield",
            "oneil",
            "kowalski",
            "john",
        ] {
            assert!(!is_common_word(name), "{name}");
            assert!(may_be_name(name), "{name}");
        }
    }

    #[test]
    fn words_that_are_also_names() {
        for name in ["will", "rose", "young", "price", "fuller", "burns", "hall"] {
            assert!(is_common_word(name), "{name}");
            assert!(may_be_name(name), "{name}");
        }
        // The list only lifts everyday words; a name that is no everyday word needs no entry.
        for name in NAMES.iter() {
            assert!(is_common_word(name), "{name}");
        }
        for word in ["loud", "back", "before", "ahead", "thing", "sometime"] {
            assert!(!may_be_name(word), "{word}");
        }
    }
}
