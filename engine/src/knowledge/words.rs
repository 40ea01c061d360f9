//! The word classes knowledge search reads questions with. Each list is words separated by
//! whitespace, normalized as callers' words are ("dont", "yall").

/// Words that carry no topic. Question words are here because every query has them.
pub(super) const STOPWORDS: &str = "\
    a about also am an and any anybody anyone anything are as at be been but by can could did do
    does doing for from get gets getting got gonna gotta guys had has have he her here heres hes
    hey hi him his hello how hows i id if ill im in into is it its ive just kind kinda know like
    lets me might mine my of ok okay on or our ours please pretty question quick really she shes
    should so some somebody someone something sort sorta that thats the their them then there
    theres these they theyre thing this those thanks thank to tell u um up us very wanna want
    wanted wanting was we were what whats when whens where wheres which who whos why will with
    wondering would ya yall yeah yes you youd youll your youre yours youve well wed weve too now
    right sure guess maybe probably actually basically honestly mean said say says stuff wonder
    curious till til until type types form forms option options roughly approximately ballpark
    yalls lemme gimme wise myself yourself ourselves themselves itself himself herself";

/// Words that turn a statement around. They say nothing about the topic.
pub(super) const NEGATIONS: &str = "\
    not no nope nor never dont doesnt didnt isnt arent wasnt werent wont cant cannot couldnt
    wouldnt shouldnt aint havent hasnt hadnt neither nothing none";

/// General words that describe rather than name a topic: common verbs, adjectives, adverbs,
/// times, people and parts of a house ("it went dark last week", "one bedroom barely gets
/// air"). They count for little when they match and cost little when the knowledge never
/// uses them, so the words that name what is asked ("generators", "thermostat") decide.
pub(super) const GENERIC: &str = "\
    go goes going went gone come comes coming came make makes making made take takes taking took
    taken give gives giving gave given put puts putting keep keeps keeping kept let seem seems
    seemed feel feels felt look looks looked looking see sees saw seen think thinks thought try
    tries tried trying use uses used using need needs needed happen happens happened happening
    start starts started starting stop stops stopped turn turns turned turning run runs ran
    running work works worked working call calls called calling help helps helped find found
    show shows showed bring brought leave leaving left set move moved change changed changing
    live lives lived wait waiting hear heard notice noticed hope told ask asked asking buy
    bought sell sells selling sold handle handles deal push pushed hit become became act acting
    acts sit sits sitting stay stays stayed send sent accept accepts offer offers \
    good happy bad big bigger small smaller little huge large high higher low lower new old
    older long longer real wrong weird strange crazy terrible awful worse worst better best
    great fine nice normal same different other another whole entire full empty dark ready
    possible able easy hard fast slow always sometimes often usually still again already ever
    even almost barely hardly only more most less least lot lots bit enough quite rather super
    totally completely suddenly recently lately anymore yet back away around over out down each
    every everything all way far \
    day days week weeks month months year years morning mornings afternoon afternoons minute
    minutes second seconds time times last next first past ago yesterday while since before
    after \
    house home room rooms bedroom bedrooms kitchen living attic closet garage basement upstairs
    downstairs floor wall walls ceiling window windows door doors yard backyard place apartment
    inside outside guy man lady wife husband kid kids family mom dad mother father son daughter
    neighbor neighbors landlord tenant people folks";

/// Number words beyond the units, teens and tens (those are read by the number extractor).
pub(super) const NUMBER_WORDS: &str = "\
    hundred thousand million half quarter dozen oh";

/// Words callers wrap a question in, which say nothing about its shape either.
pub(super) const SOCIAL_WORDS: &str = "\
    guys yall yalls just like hey hi hello so well okay ok yeah please really actually basically
    honestly quick question wondering sir maam";

/// Prepositions that, after the thing asked about has been named, open a phrase qualifying it.
/// Not "of" or "about": "the price of a tune-up", "something about the dust" name the topic.
pub(super) const MODIFYING_PREPOSITIONS: &str = "\
    for in on at during from near around with like by";

/// Words that start a new clause, ending a qualifying phrase and a word pair.
pub(super) const CLAUSE_WORDS: &str = "\
    and but or if because when so then is are was were do does did can could should would will
    what whats how why which who where";
