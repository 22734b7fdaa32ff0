use bytes::Bytes;

use super::*;

fn round_trip<T: PartialEq + std::fmt::Debug, S: Serde<T>>(serde: &S, v: T) {
    let bytes = serde.serialize("t", &v).expect("serialize");
    assert_eq!(serde.deserialize("t", bytes.as_ref()).expect("deserialize"), v);
    if let Some(b) = &bytes {
        if let Some(borrowed) = serde.deserialize_borrowed("t", b) {
            assert_eq!(borrowed.expect("deserialize_borrowed"), v);
        }
    }
    same_bytes_into(serde, &v);
}

/// `serialize_into` appends exactly what `serialize` returns (nothing for a null).
fn same_bytes_into<T, S: Serde<T>>(serde: &S, v: &T) {
    let mut out = bytes::BytesMut::from(&b"prefix"[..]);
    let wrote = serde.serialize_into("t", v, &mut out).expect("serialize_into");
    match serde.serialize("t", v).expect("serialize") {
        Some(b) => {
            assert!(wrote);
            assert_eq!(&out[..6], b"prefix");
            assert_eq!(&out[6..], &b[..]);
        }
        None => {
            assert!(!wrote);
            assert_eq!(&out[..], b"prefix");
        }
    }
}

#[test]
fn the_built_in_serdes_read_borrowed_slices_with_the_same_errors() {
    let read = |b: &[u8]| <I64Serde as Serde<i64>>::deserialize_borrowed(&I64Serde, "t", b);
    assert_eq!(read(&7i64.to_be_bytes()).map(Result::unwrap), Some(7));
    assert!(read(b"abc").is_some_and(|r| r.is_err()), "a wrong size is an error");
    let s = <StringSerde as Serde<String>>::deserialize_borrowed(&StringSerde, "t", b"hi");
    assert_eq!(s.map(Result::unwrap), Some("hi".to_string()));
    let bad = <StringSerde as Serde<String>>::deserialize_borrowed(&StringSerde, "t", &[0xff]);
    assert!(bad.is_some_and(|r| r.is_err()), "invalid UTF-8 is an error");
    let opt = <I32Serde as Serde<Option<i32>>>::deserialize_borrowed(&I32Serde, "t", &[0, 0, 0, 2]);
    assert_eq!(opt.map(Result::unwrap), Some(Some(2)));
    // `Bytes` values are slices of the record already: no borrowed path.
    assert!(<BytesSerde as Serde<Bytes>>::deserialize_borrowed(&BytesSerde, "t", b"x").is_none());
}

#[test]
fn serialize_into_appends_what_serialize_returns() {
    same_bytes_into(&Serdes::i16(), &-3i16);
    same_bytes_into(&Serdes::i32(), &7i32);
    same_bytes_into(&Serdes::i64(), &i64::MAX);
    same_bytes_into(&Serdes::f32(), &1.5f32);
    same_bytes_into(&Serdes::f64(), &-2.25f64);
    same_bytes_into(&StringSerde, &"héllo".to_string());
    same_bytes_into::<Option<String>, _>(&StringSerde, &None);
    same_bytes_into::<Option<i64>, _>(&I64Serde, &Some(5));
    same_bytes_into(&BytesSerde, &Bytes::from_static(b"raw"));
    same_bytes_into(&BytesSerde, &vec![1u8, 2, 3]);
    same_bytes_into(&UnitSerde, &());
}

#[test]
fn integers_are_big_endian_as_kafka_writes_them() {
    assert_eq!(
        Serdes::i32().serialize("t", &1i32).unwrap(),
        Some(Bytes::from_static(&[0, 0, 0, 1]))
    );
    assert_eq!(
        Serdes::i64().serialize("t", &-2i64).unwrap(),
        Some(Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]))
    );
    assert_eq!(Serdes::i16().serialize("t", &258i16).unwrap(), Some(Bytes::from_static(&[1, 2])));
    round_trip(&Serdes::i64(), i64::MIN);
    round_trip(&Serdes::f64(), 1.5f64);
    round_trip(&Serdes::f32(), -0.25f32);
}

#[test]
fn wrong_sized_integers_are_an_error_naming_the_topic() {
    let err =
        <I32Serde as Serde<i32>>::deserialize(&I32Serde, "ints", Some(&Bytes::from_static(b"abc")))
            .unwrap_err();
    assert!(err.to_string().contains("ints") && err.to_string().contains("4 bytes"), "{err}");
}

#[test]
fn null_is_none_for_options_and_an_error_otherwise() {
    let s = Serdes::string();
    assert_eq!(<StringSerde as Serde<Option<String>>>::deserialize(&s, "t", None).unwrap(), None);
    assert_eq!(<StringSerde as Serde<Option<String>>>::serialize(&s, "t", &None).unwrap(), None);
    let err = <StringSerde as Serde<String>>::deserialize(&s, "lines", None).unwrap_err();
    assert!(err.to_string().contains("Option<"), "{err}");
    round_trip(&s, Some("héllo".to_string()));
}

#[test]
fn invalid_utf8_is_an_error() {
    let err = <StringSerde as Serde<String>>::deserialize(
        &StringSerde,
        "t",
        Some(&Bytes::from_static(&[0xff, 0xfe])),
    )
    .unwrap_err();
    assert!(err.to_string().contains("UTF-8"), "{err}");
}

#[test]
fn unit_is_always_null() {
    assert_eq!(Serdes::unit().serialize("t", &()).unwrap(), None);
    assert!(Serdes::unit().deserialize("t", Some(&Bytes::from_static(b"x"))).is_err());
}

#[test]
fn registry_holds_the_builtins_and_takes_new_ones() {
    #[derive(Debug, PartialEq)]
    struct Celsius(i32);
    struct CelsiusSerde;
    impl Serde<Celsius> for CelsiusSerde {
        fn serialize(&self, t: &str, v: &Celsius) -> Result<Option<Bytes>, SerdeError> {
            I32Serde.serialize(t, &v.0)
        }
        fn deserialize(&self, t: &str, b: Option<&Bytes>) -> Result<Celsius, SerdeError> {
            <I32Serde as Serde<i32>>::deserialize(&I32Serde, t, b).map(Celsius)
        }
    }
    let mut reg = SerdeRegistry::default();
    assert!(reg.get::<Option<String>>().is_some());
    assert!(reg.get::<i64>().is_some());
    assert!(reg.get::<Celsius>().is_none());
    reg.register::<Celsius, _>(CelsiusSerde);
    round_trip(&reg.get::<Celsius>().unwrap(), Celsius(21));
}

/// Deserializes `values`, handed over or lent, with serde `S`; with the values the column kept
/// afterwards.
fn value_column<T, S: Serde<T>>(
    serde: &S,
    values: &[Option<&'static [u8]>],
    take: bool,
) -> (Vec<T>, Result<(), usize>, Vec<bool>) {
    let mut column: Vec<Option<Bytes>> = values.iter().map(|v| v.map(Bytes::from_static)).collect();
    let mut out = Vec::new();
    let raw = match take {
        true => RawColumn::taken(&mut column),
        false => RawColumn::lent(&column),
    };
    let result = serde.deserialize_column("t", raw, &mut out).map_err(|(i, _)| i);
    (out, result, column.iter().map(Option::is_some).collect())
}

/// Strings of another serde: only the provided (default) column methods.
struct Plain;

impl Serde<String> for Plain {
    fn serialize(&self, _topic: &str, value: &String) -> Result<Option<Bytes>, SerdeError> {
        match value.as_str() {
            "bad" => Err(SerdeError::new("bad")),
            v => Ok(Some(Bytes::copy_from_slice(v.as_bytes()))),
        }
    }
    fn deserialize(&self, topic: &str, bytes: Option<&Bytes>) -> Result<String, SerdeError> {
        StringSerde.deserialize(topic, bytes)
    }
}

#[test]
fn columns_stop_at_the_first_bad_record_and_leave_the_rest_untouched() {
    let values: [Option<&'static [u8]>; 4] = [Some(b"a"), Some(b"b"), None, Some(b"d")];
    // Handed over: the records before the bad one gave their bytes away; the rest keep theirs.
    let (out, result, kept) = value_column::<Bytes, _>(&BytesSerde, &values, true);
    assert_eq!((out, result), (vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")], Err(2)));
    assert_eq!(kept, [false, false, false, true]);
    // Lent: nothing is taken.
    let (out, result, kept) = value_column::<Bytes, _>(&BytesSerde, &values, false);
    assert_eq!((out.len(), result, kept), (2, Err(2), vec![true, true, false, true]));
    // Nullable: a null is a value.
    let (out, result, _) = value_column::<Option<Bytes>, _>(&BytesSerde, &values, true);
    assert_eq!((out.len(), result, out[2].is_none()), (4, Ok(()), true));
    // The default methods, for a serde of the user's own.
    let values: [Option<&'static [u8]>; 3] = [Some(b"x"), Some(&[0xff]), Some(b"z")];
    let (out, result, kept) = value_column::<String, _>(&Plain, &values, true);
    assert_eq!((out, result, kept), (vec!["x".to_string()], Err(1), vec![false, false, true]));
    let (out, result, _) = value_column::<String, _>(&StringSerde, &values, false);
    assert_eq!((out, result), (vec!["x".to_string()], Err(1)));
    // Bytes moved out of their records first (a source's run when nothing reads the records'
    // bytes): the same, the bytes after the bad one left in place for the next column.
    for (serde, expected) in [(&Plain as &dyn Serde<String>, 1), (&StringSerde, 1)] {
        let mut taken: Vec<Option<Bytes>> =
            values.iter().map(|v| v.map(Bytes::from_static)).collect();
        let mut out = Vec::new();
        let result = serde.deserialize_column("t", RawColumn::taken(&mut taken), &mut out);
        assert_eq!((out, result.map_err(|(i, _)| i)), (vec!["x".to_string()], Err(expected)));
        assert_eq!(taken.iter().map(Option::is_some).collect::<Vec<_>>(), [false, false, true]);
        let mut out = Vec::new();
        let rest = serde.deserialize_column("t", RawColumn::taken(&mut taken[2..]), &mut out);
        assert_eq!((out, rest.is_ok()), (vec!["z".to_string()], true));
    }
    let mut taken: Vec<Option<Bytes>> = vec![Some(Bytes::from_static(b"a")), None];
    let mut out = Vec::new();
    let result = BytesSerde.deserialize_column("t", RawColumn::taken(&mut taken), &mut out);
    assert_eq!((out, result.map_err(|(i, _)| i)), (vec![Bytes::from_static(b"a")], Err(1)));

    // Serializing: at most `limit`, stopping after the first that fails; the rest stay.
    let mut items = vec!["p".to_string(), "bad".into(), "q".into(), "r".into()].into_iter();
    let mut out = Vec::new();
    assert!(Plain.serialize_column("t", &mut items, 3, &mut out).is_err());
    assert_eq!((out.len(), items.len()), (1, 2));
    assert!(Plain.serialize_column("t", &mut items, 1, &mut out).is_ok());
    assert_eq!((out.len(), items.len()), (2, 1));
    let mut items = vec![Some(Bytes::from_static(b"k")), None].into_iter();
    let mut out = Vec::new();
    <BytesSerde as Serde<Option<Bytes>>>::serialize_column(
        &BytesSerde,
        "t",
        &mut items,
        5,
        &mut out,
    )
    .unwrap();
    assert_eq!(out, [Some(Bytes::from_static(b"k")), None]);
}
