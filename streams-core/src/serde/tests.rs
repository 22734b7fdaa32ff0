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
