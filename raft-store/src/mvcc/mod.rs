//! Multi-version key-value logic over RocksDB: one revision for the whole
//! keyspace (the log index of the entry that wrote it), every version kept in
//! history until compacted, reads at any revision at or above the compact
//! revision.

pub mod apply;
pub mod read;

use prost::Message;
use proto::mvccpb::KeyValue;

use crate::keys::{TAG_DEL, TAG_PUT};

/// One historical version as stored in the `hist` column family.
#[derive(Debug, Clone, PartialEq)]
pub enum Version {
    /// The key was written with this value.
    Put(KeyValue),
    /// The key was deleted at this revision.
    Deleted {
        /// The key.
        key: Vec<u8>,
        /// Revision of the delete.
        rev: i64,
    },
}

/// Encode a `hist` value.
pub fn encode_version(v: &Version) -> Vec<u8> {
    match v {
        Version::Put(kv) => {
            let mut b = Vec::with_capacity(kv.encoded_len() + 1);
            b.push(TAG_PUT);
            kv.encode(&mut b).expect("vec grows");
            b
        }
        Version::Deleted { key, rev } => {
            let kv = KeyValue { key: key.clone(), mod_revision: *rev, ..Default::default() };
            let mut b = Vec::with_capacity(kv.encoded_len() + 1);
            b.push(TAG_DEL);
            kv.encode(&mut b).expect("vec grows");
            b
        }
    }
}

/// Decode a `hist` value.
pub fn decode_version(b: &[u8]) -> Result<Version, prost::DecodeError> {
    let kv = KeyValue::decode(&b[1..])?;
    Ok(if b[0] == TAG_DEL { Version::Deleted { key: kv.key, rev: kv.mod_revision } } else { Version::Put(kv) })
}
