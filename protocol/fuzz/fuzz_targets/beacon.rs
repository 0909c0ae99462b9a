//! Fuzz target `beacon`: arbitrary bytes through the collector's beacon decoder
//! (`protocol::decode_batch`, then `Batch::validate`), as `POST /v1/beacons` runs them.
//! Nothing may panic; a refusal always names a field; and a batch that decodes is
//! written back to JSON and must decode again to the same shape, and validate the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::decode_batch;

fuzz_target!(|data: &[u8]| {
    match decode_batch(data) {
        Ok(batch) => {
            let valid = batch.validate();
            if let Err(error) = &valid {
                assert!(!error.field.is_empty(), "{error}");
            }
            let text = serde_json::to_vec(&batch).expect("a decoded batch serialises");
            let again = decode_batch(&text).expect("a serialised batch decodes");
            assert_eq!(again.events.len(), batch.events.len());
            assert_eq!(again.view.id, batch.view.id);
            assert_eq!(again.validate().is_ok(), valid.is_ok());
        }
        Err(error) => assert!(!error.field.is_empty(), "{error}"),
    }
});
