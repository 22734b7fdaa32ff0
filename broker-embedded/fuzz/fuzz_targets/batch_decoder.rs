//! Feeds arbitrary bytes to every record batch decoder: none may panic, and what they accept must agree.
#![no_main]

use bytes::Bytes;
use broker_embedded::format::{
    BatchBuilder, Compression, Header, RecordRefs, batches, decode_records, validate_batch,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let validated = validate_batch(data);
    let decoded = decode_records(&Bytes::copy_from_slice(data));

    if let Ok(header) = &validated {
        if header.compression() == Ok(Compression::None) {
            // A batch that validates decodes, into exactly the declared number of records.
            let records = decoded.as_ref().expect("validated batch must decode");
            assert_eq!(records.len(), header.record_count as usize);

            // Re-encoding the records gives a batch that decodes to the same contents.
            if !records.is_empty() {
                let mut builder = BatchBuilder::new();
                for r in records {
                    builder.push(
                        r.timestamp,
                        r.key.as_deref(),
                        r.value.as_deref(),
                        &r.headers,
                    );
                }
                let rebuilt = builder.build(0).expect("non-empty").freeze();
                validate_batch(&rebuilt).expect("rebuilt batch must validate");
                let again = decode_records(&rebuilt).expect("rebuilt batch must decode");
                let contents = |rs: &[broker_embedded::format::Record]| {
                    rs.iter()
                        .map(|r| {
                            (
                                r.timestamp,
                                r.key.clone(),
                                r.value.clone(),
                                r.headers.clone(),
                            )
                        })
                        .collect::<Vec<(i64, Option<Bytes>, Option<Bytes>, Vec<Header>)>>()
                };
                assert_eq!(contents(records), contents(&again));
            }
        }
    }

    // The borrowed walk accepts what the checked decoder accepts, with the same records.
    if let Ok(refs) = RecordRefs::new(data) {
        let walked: Result<Vec<_>, _> = refs.collect();
        match (&walked, &decoded) {
            (Ok(w), Ok(d)) => {
                assert_eq!(w.len(), d.len());
                for (a, b) in w.iter().zip(d) {
                    assert_eq!(
                        (a.offset, a.timestamp, a.key, a.value),
                        (b.offset, b.timestamp, b.key.as_deref(), b.value.as_deref())
                    );
                    assert_eq!(a.headers().count(), b.headers.len());
                }
            }
            (Err(_), Err(_)) => {}
            _ => panic!("the borrowed walk and decode_records disagree"),
        }
    }

    let mut iter = batches(data);
    let mut end = 0;
    for item in iter.by_ref() {
        match item {
            Ok((header, batch)) => {
                assert_eq!(batch.len(), header.total_len());
                end += batch.len();
                let _ = validate_batch(batch);
                let _ = decode_records(&Bytes::copy_from_slice(batch));
            }
            Err(_) => break,
        }
    }
    assert_eq!(iter.position(), end);
    assert!(end <= data.len());
});
