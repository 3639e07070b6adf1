use super::*;
use proptest::prelude::*;
use serde::de::IgnoredAny;

/// Hands out at most `n` bytes per read, so every token meets the window's edge somewhere.
struct Chunks<'a>(&'a [u8], usize);

impl Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.0.len()).min(self.1);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// A tee output cut into parts: each mark starts the next.
struct Parts(Vec<Vec<u8>>);

impl Write for Parts {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .last_mut()
            .expect("a mark first")
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Tee for Parts {
    type Mark = ();
    fn mark(&mut self, (): ()) {
        self.0.push(Vec::new());
    }
}

fn skip_all(bytes: &[u8], chunk: usize) -> std::result::Result<(), String> {
    let mut r: Reader<_, io::Sink> = Reader::new(Chunks(bytes, chunk), None);
    r.skip_value()
        .and_then(|()| r.finish())
        .map_err(|e| format!("{e:?}"))
}

/// What `serde_json` accepts when it skips a value, plus UTF-8 (which the kit checks in
/// every string, as Python's decoder does).
fn serde_accepts(bytes: &[u8]) -> bool {
    serde_json::from_slice::<IgnoredAny>(bytes).is_ok() && std::str::from_utf8(bytes).is_ok()
}

const PIECES: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\"k\"",
    b"\"",
    b"\\",
    b"\\u00e9",
    b"\\uZZ",
    b"\\n",
    b"1",
    b"-",
    b"0",
    b".",
    b"e",
    b"E+",
    b"true",
    b"tru",
    b"null",
    b"false",
    b" ",
    b"\n",
    "\u{e9}".as_bytes(),
    "\u{1F600}".as_bytes(),
    b"\xff",
    b"\xe2\x82",
    b"\x01",
    b"a",
];

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-1e9f64..1e9).prop_map(serde_json::Value::from),
        "[ -~é😀\\\\\"\n\t]{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(5, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::vec(("[a-z\"é]{0,4}", inner), 0..6)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random fragments: the reader accepts exactly what serde_json accepts, whatever the
    /// reads' sizes.
    #[test]
    fn accepts_what_serde_json_accepts(
        parts in prop::collection::vec(prop::sample::select(PIECES), 1..14),
        chunk in 1usize..6,
    ) {
        let bytes = parts.concat();
        let ours = skip_all(&bytes, chunk);
        prop_assert_eq!(ours.is_ok(), serde_accepts(&bytes), "{:?}: {:?}", String::from_utf8_lossy(&bytes), ours);
        prop_assert_eq!(ours, skip_all(&bytes, usize::MAX));
    }

    /// Valid documents, then one byte changed, dropped or added.
    #[test]
    fn a_valid_document_and_its_mutants(
        value in json_value(),
        pretty in any::<bool>(),
        at in any::<prop::sample::Index>(),
        edit in 0u8..4,
        byte in prop::sample::select(b"{}[],:\"\\0-.e \x01\xc3tfn".to_vec()),
        chunk in 1usize..6,
    ) {
        let mut bytes = if pretty {
            serde_json::to_vec_pretty(&value).unwrap()
        } else {
            serde_json::to_vec(&value).unwrap()
        };
        prop_assert!(skip_all(&bytes, chunk).is_ok());
        let i = at.index(bytes.len());
        match edit {
            0 => bytes[i] = byte,
            1 => { bytes.remove(i); }
            2 => bytes.insert(i, byte),
            _ => bytes.truncate(i),
        }
        let ours = skip_all(&bytes, chunk);
        prop_assert_eq!(ours.is_ok(), serde_accepts(&bytes), "{:?}: {:?}", String::from_utf8_lossy(&bytes), ours);
    }

    /// Teeing a value copies exactly its bytes; decoded keys and strings are serde_json's.
    #[test]
    fn tee_copies_and_strings_decode(
        entries in prop::collection::vec(("[ -~é😀\\\\\"\n]{0,10}", json_value()), 1..5),
        chunk in 1usize..6,
    ) {
        let object = serde_json::Value::Object(entries.into_iter().collect());
        let bytes = serde_json::to_vec(&object).unwrap();
        let mut r = Reader::new(Chunks(&bytes, chunk), Some(Parts(Vec::new())));
        prop_assert_eq!(r.kind().unwrap(), Kind::Object);
        r.begin_object().unwrap();
        let mut key = Vec::new();
        let mut keys = Vec::new();
        while r.next_key(&mut key).unwrap() {
            keys.push(String::from_utf8(key.clone()).unwrap());
            r.peek().unwrap();
            r.mark(());
            r.tee_begin();
            r.skip_value().unwrap();
            r.tee_end();
        }
        r.finish().unwrap();
        let values = r.into_out().0.unwrap().0;
        let (want_keys, want_values): (Vec<_>, Vec<_>) = object
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::to_vec(v).unwrap()))
            .unzip();
        prop_assert_eq!(keys, want_keys);
        prop_assert_eq!(values, want_values);
    }
}

/// Python's `json` (the seed's reader) takes `NaN`, `Infinity` and `-Infinity` as numbers,
/// and nothing else of their kind.
#[test]
fn non_finite_numbers_as_python_reads_them() {
    for ok in [
        "NaN",
        "Infinity",
        "-Infinity",
        "[NaN,-Infinity]",
        "{\"a\":Infinity}",
    ] {
        for chunk in [1, 2, 100] {
            assert!(
                skip_all(ok.as_bytes(), chunk).is_ok(),
                "{ok} in chunks of {chunk}"
            );
        }
    }
    for bad in [
        "-NaN",
        "nan",
        "Inf",
        "Infinityx",
        "- Infinity",
        "+Infinity",
        "NaN1",
        "infinity",
    ] {
        assert!(skip_all(bad.as_bytes(), 100).is_err(), "{bad}");
    }
    let mut r: Reader<_, io::Sink> = Reader::new(Chunks(b"-Infinity", 1), None);
    let mut text = Vec::new();
    assert_eq!(r.kind().unwrap(), Kind::Number);
    r.read_number(&mut text).unwrap();
    assert_eq!(text, b"-Infinity");
}

#[test]
fn errors_say_where_in_serde_json_words() {
    let err = |text: &str| match skip_all(text.as_bytes(), 3) {
        Err(e) => e,
        Ok(()) => panic!("{text} accepted"),
    };
    // serde_json's own messages for the same texts.
    for (text, want) in [
        ("this is not json", "expected ident at line 1 column 2"),
        ("{\"a\":1,}", "key must be a string at line 1 column 8"),
        ("[1,\n 2 x", "expected `,` or `]` at line 2 column 4"),
        ("{\"a\" 1}", "expected `:` at line 1 column 6"),
        ("[1] 2", "trailing characters at line 1 column 5"),
        (
            "\"a\u{1}\"",
            "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 2",
        ),
        ("[01]", "invalid number at line 1 column 3"),
        ("{\"a\":[", "EOF while parsing a list at line 1 column 6"),
        ("[1.]", "invalid number at line 1 column 4"),
        ("\"\\x\"", "invalid escape at line 1 column 3"),
        ("{1:2}", "key must be a string at line 1 column 2"),
        ("[tx]", "expected ident at line 1 column 3"),
        ("\"ab", "EOF while parsing a string at line 1 column 3"),
        ("[1,2", "EOF while parsing a list at line 1 column 4"),
        ("{\"a\":1", "EOF while parsing an object at line 1 column 6"),
        ("-", "invalid number at line 1 column 1"),
        ("[-]", "invalid number at line 1 column 3"),
        ("", "EOF while parsing a value at line 1 column 0"),
        ("  ", "EOF while parsing a value at line 1 column 2"),
    ] {
        assert_eq!(err(text), format!("Syntax({want:?})"), "{text:?}");
    }
    let deep = "[".repeat(2000);
    assert_eq!(
        err(&deep),
        "Syntax(\"recursion limit exceeded at line 1 column 1002\")"
    );
    for depth in [999, 1000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(skip_all(nested.as_bytes(), 7).is_ok(), "{depth}");
    }
}
