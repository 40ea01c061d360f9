use super::*;

fn full_gather() -> Gather {
    Gather {
        action: "/voice/gather?turn=1&call=2".to_string(),
        input: "speech dtmf".to_string(),
        speech_timeout: Some("auto".to_string()),
        timeout: Some(6),
        language: Some("en-US".to_string()),
        hints: vec!["reservation".to_string(), "cancel".to_string()],
        speech_model: Some("phone_call".to_string()),
        action_on_empty_result: true,
        num_digits: Some(1),
        prompts: vec![
            Say {
                text: "Hi! How can I help?".to_string(),
                voice: Some("Polly.Joanna-Neural".to_string()),
                language: Some("en-US".to_string()),
            },
            Say::new("Press 0 for an agent."),
        ],
    }
}

fn all_verbs() -> Vec<Verb> {
    vec![
        Verb::Say(Say::new("Welcome to Luigi's.")),
        Verb::Gather(full_gather()),
        Verb::Gather(Gather::speech("/voice/gather")),
        Verb::Pause { seconds: 2 },
        Verb::Redirect {
            url: "/voice/no-input?a=1&b=2".to_string(),
        },
        Verb::Dial(Dial {
            number: "+15558675310".to_string(),
            action: Some("/voice/dial-done".to_string()),
            timeout: Some(20),
            caller_id: Some("+15005550006".to_string()),
            number_url: None,
        }),
        Verb::Dial(Dial {
            number: "+15558675311".to_string(),
            ..Default::default()
        }),
        Verb::Dial(Dial {
            number: "+15558675312".to_string(),
            action: Some("/voice/dial-done".to_string()),
            number_url: Some("/voice/whisper?text=Booking+for+Ana&x=1".to_string()),
            ..Default::default()
        }),
        Verb::Connect(Connect {
            action: Some("https://example.com/stream-ended?x=1&y=2".to_string()),
            stream: Stream {
                url: "wss://example.com/media".to_string(),
                name: Some("agent".to_string()),
                status_callback: Some("https://example.com/stream-status".to_string()),
                parameters: vec![
                    ("tenant".to_string(), "acme".to_string()),
                    ("token".to_string(), "a&b\"c".to_string()),
                ],
            },
        }),
        Verb::Connect(Connect {
            action: None,
            stream: Stream {
                url: "wss://example.com/bare".to_string(),
                ..Default::default()
            },
        }),
        Verb::Hangup,
    ]
}

#[test]
fn round_trip_every_verb() {
    let verbs = all_verbs();
    let xml = render(&verbs);
    assert_eq!(parse(&xml), Ok(verbs), "{xml}");
}

#[test]
fn render_is_compact_and_exact() {
    let xml = render(&[
        Verb::Say(Say::new("Hello")),
        Verb::Dial(Dial {
            number: "+15558675310".to_string(),
            action: Some("/voice/dial-done".to_string()),
            timeout: Some(20),
            caller_id: Some("+15005550006".to_string()),
            number_url: None,
        }),
        Verb::Hangup,
    ]);
    assert_eq!(
        xml,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say><Dial action="/voice/dial-done" timeout="20" callerId="+15005550006">+15558675310</Dial><Hangup/></Response>"#
    );
    assert_eq!(
        render(&[Verb::Gather(Gather::speech("/g"))]),
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/g" input="speech dtmf" speechTimeout="auto"/></Response>"#
    );
}

#[test]
fn caller_text_cannot_break_the_document() {
    let nasty = r#"Tom & <Jerry> said "hi" it's </Say><Hangup/>"#;
    let verbs = vec![
        Verb::Say(Say {
            text: nasty.to_string(),
            voice: Some(r#"x" evil="1"#.to_string()),
            language: None,
        }),
        Verb::Redirect {
            url: "/next?a=1&b=<2>".to_string(),
        },
    ];
    let xml = render(&verbs);
    assert!(xml.contains(
        "Tom &amp; &lt;Jerry&gt; said &quot;hi&quot; it&apos;s &lt;/Say&gt;&lt;Hangup/&gt;"
    ));
    assert!(xml.contains(r#"voice="x&quot; evil=&quot;1""#));
    assert_eq!(parse(&xml), Ok(verbs));
}

#[test]
fn control_characters_are_dropped() {
    let xml = render(&[Verb::Say(Say::new("a\u{0}b\u{1b}c\td"))]);
    assert_eq!(parse(&xml), Ok(vec![Verb::Say(Say::new("abc\td"))]));
}

#[test]
fn hints_are_joined_cleaned_and_truncated() {
    let mut g = Gather::speech("/g");
    g.hints = vec![
        "table, booking".to_string(),
        "x".repeat(150),
        "  ".to_string(),
        "Luigi's".to_string(),
    ];
    let xml = render(&[Verb::Gather(g)]);
    let expected = format!(
        r#"hints="table booking, {}, Luigi&apos;s""#,
        "x".repeat(100)
    );
    assert!(xml.contains(&expected), "{xml}");
    let Ok(parsed) = parse(&xml) else {
        panic!("{xml}")
    };
    let Verb::Gather(g) = &parsed[0] else {
        panic!("{parsed:?}")
    };
    assert_eq!(
        g.hints,
        vec![
            "table booking".to_string(),
            "x".repeat(100),
            "Luigi's".to_string()
        ]
    );
}

#[test]
fn parses_the_protocols_gather_example() {
    let xml = r##"<Response>
  <Gather input="speech dtmf" action="/voice/gather?turn=1" method="POST" speechTimeout="auto"
      timeout="6" language="en-US" hints="reservation, cancel, agent" speechModel="phone_call"
      actionOnEmptyResult="true" numDigits="1" finishOnKey="#">
<Say voice="Polly.Joanna-Neural" language="en-US">Hi! How can I help?<break time="300ms"/> Press 0 for an agent.</Say>
  </Gather>
  <Redirect method="POST">/voice/no-input</Redirect>
</Response>"##;
    assert_eq!(
        parse(xml),
        Ok(vec![
            Verb::Gather(Gather {
                action: "/voice/gather?turn=1".to_string(),
                input: "speech dtmf".to_string(),
                speech_timeout: Some("auto".to_string()),
                timeout: Some(6),
                language: Some("en-US".to_string()),
                hints: vec![
                    "reservation".to_string(),
                    "cancel".to_string(),
                    "agent".to_string()
                ],
                speech_model: Some("phone_call".to_string()),
                action_on_empty_result: true,
                num_digits: Some(1),
                prompts: vec![Say {
                    text: "Hi! How can I help? Press 0 for an agent.".to_string(),
                    voice: Some("Polly.Joanna-Neural".to_string()),
                    language: Some("en-US".to_string()),
                }],
            }),
            Verb::Redirect {
                url: "/voice/no-input".to_string()
            },
        ])
    );
}

#[test]
fn parses_the_protocols_stream_example() {
    let xml = r#"<Response><Connect>
  <Stream url="wss://example.com/media" name="agent" statusCallback="https://example.com/stream-status">
<Parameter name="tenant" value="acme"/>
<Parameter name="token" value="opaque"/>
  </Stream>
</Connect></Response>"#;
    assert_eq!(
        parse(xml),
        Ok(vec![Verb::Connect(Connect {
            action: None,
            stream: Stream {
                url: "wss://example.com/media".to_string(),
                name: Some("agent".to_string()),
                status_callback: Some("https://example.com/stream-status".to_string()),
                parameters: vec![
                    ("tenant".to_string(), "acme".to_string()),
                    ("token".to_string(), "opaque".to_string())
                ],
            },
        })])
    );
}

#[test]
fn parses_the_protocols_dial_example_and_number_noun() {
    let xml = r#"<Response><Dial callerId="+15005550006" timeout="20" action="/voice/dial-done">+15558675310</Dial></Response>"#;
    let expected = Dial {
        number: "+15558675310".to_string(),
        action: Some("/voice/dial-done".to_string()),
        timeout: Some(20),
        caller_id: Some("+15005550006".to_string()),
        number_url: None,
    };
    assert_eq!(parse(xml), Ok(vec![Verb::Dial(expected)]));
    let xml = "<Response><Dial>\n  <Number>+15558675310</Number>\n</Dial></Response>";
    assert_eq!(
        parse(xml),
        Ok(vec![Verb::Dial(Dial {
            number: "+15558675310".to_string(),
            ..Default::default()
        })])
    );
}

#[test]
fn a_whisper_is_a_number_noun_with_a_url() {
    let xml = render(&[Verb::Dial(Dial {
        number: "+15558675310".to_string(),
        number_url: Some("/w?text=a&b=1".to_string()),
        ..Default::default()
    })]);
    assert!(
        xml.contains(r#"<Dial><Number url="/w?text=a&amp;b=1">+15558675310</Number></Dial>"#),
        "{xml}"
    );
}

#[test]
fn tolerates_declarations_comments_cdata_and_defaults() {
    let xml = "<?xml version=\"1.0\"?>\n<!-- hi -->\n<Response>\n <Say loop=\"1\"><![CDATA[a < b]]> &amp; &#233;</Say>\n <Pause/>\n <Gather/>\n</Response>\n";
    let mut gather = Gather::speech("");
    gather.input = "dtmf".to_string();
    gather.speech_timeout = None;
    assert_eq!(
        parse(xml),
        Ok(vec![
            Verb::Say(Say::new("a < b & é")),
            Verb::Pause { seconds: 1 },
            Verb::Gather(gather)
        ])
    );
    assert_eq!(parse("<Response/>"), Ok(vec![]));
}

#[test]
fn unknown_verbs_and_bad_documents_are_errors() {
    assert_eq!(
        parse("<Response><Play>https://x/a.mp3</Play></Response>"),
        Err(TwimlError::UnsupportedVerb("Play".to_string()))
    );
    assert!(matches!(
        parse("<Response><Connect><ConversationRelay url=\"wss://x\"/></Connect></Response>"),
        Err(TwimlError::UnsupportedVerb(v)) if v.contains("ConversationRelay")
    ));
    assert_eq!(
        parse("<Foo/>"),
        Err(TwimlError::NotResponse("Foo".to_string()))
    );
    assert!(matches!(
        parse("<Response><Say>hi</Response>"),
        Err(TwimlError::Xml(_))
    ));
    assert!(matches!(
        parse("<Response><Say>hi</Say>"),
        Err(TwimlError::Xml(_))
    ));
    assert!(matches!(parse(""), Err(TwimlError::Xml(_))));
    assert!(matches!(
        parse("<Response><Pause length=\"x\"/></Response>"),
        Err(TwimlError::Invalid(_))
    ));
    assert!(matches!(
        parse("<Response><Redirect/></Response>"),
        Err(TwimlError::Invalid(_))
    ));
    assert!(matches!(
        parse("<Response><Dial/></Response>"),
        Err(TwimlError::Invalid(_))
    ));
    assert!(matches!(
        parse("<Response><Connect/></Response>"),
        Err(TwimlError::Invalid(_))
    ));
    assert!(matches!(
        parse("<Response>hello</Response>"),
        Err(TwimlError::Invalid(_))
    ));
    assert!(matches!(
        parse("<Response><Say>&bogus;</Say></Response>"),
        Err(TwimlError::Xml(_))
    ));
    assert!(matches!(
        parse("<Response/><Response/>"),
        Err(TwimlError::Xml(_))
    ));
}
