//! Decoding of Kubernetes protobuf request bodies (`Content-Type: application/vnd.kubernetes.protobuf`).
//!
//! `kubectl` and other client-go programs send most typed creates (`kubectl create namespace`,
//! `create deployment`, `create secret`, `auth can-i`, ...) as protobuf rather than JSON. A body is the
//! 4-byte magic `k8s\0` followed by a `runtime.Unknown` envelope that names the object's apiVersion and
//! kind and carries the object's own protobuf encoding.
//!
//! [`decode`] turns such a body into the Kubernetes JSON document (`serde_json::Value`) the client
//! would have sent as `application/json` for the same object: the same keys, the same omitted and
//! null fields, RFC 3339 timestamps, quantities as strings, int-or-string values as numbers or
//! strings, and `[]byte` values as base64. Guarantees:
//!
//! - Only the kinds listed in the schema (see [`supported_kinds`]) are decoded; any other kind is an
//!   [`ProtobufError::UnsupportedKind`] that names the supported kinds and suggests sending JSON.
//! - Fields the schema does not know are skipped, as protobuf readers do.
//! - Malformed input (truncated, wrong wire types, overlong varints, garbage) is an error, never a
//!   panic; recursion is bounded by the (acyclic) schema, not by the input.
//!
//! Which requests arrive as protobuf (observed with kubectl 1.32): every `kubectl create <kind>`
//! subcommand (namespace, configmap, secret generic/tls/docker-registry, service clusterip/nodeport/
//! loadbalancer/externalname, serviceaccount, deployment, job, job --from=cronjob, cronjob, quota,
//! priorityclass, role, rolebinding, clusterrole, clusterrolebinding, poddisruptionbudget, ingress,
//! token), `kubectl autoscale` (autoscaling/v1), `kubectl auth can-i` (including `--list`) and
//! `kubectl auth whoami`. `kubectl run`, `expose`, `apply`, `create -f`, deletes and all patches
//! send JSON.
//!
//! Not representable in protobuf, and therefore absent from the result: the `apiVersion`/`kind` of
//! objects nested inside other objects (such as a StatefulSet's `volumeClaimTemplates`).

mod schema;

use std::borrow::Cow;

use schema::{Card, Emit, Field, Message, Ty, KINDS};
use serde_json::{Map, Value};

/// The media type of Kubernetes protobuf bodies.
pub const PROTOBUF_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The 4-byte prefix of every Kubernetes protobuf body.
const MAGIC: &[u8; 4] = b"k8s\0";

/// Why a protobuf body could not be decoded.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProtobufError {
    /// The body does not start with the Kubernetes protobuf magic prefix.
    #[error(
        "the request body is not a Kubernetes protobuf object (it does not start with the 4-byte prefix \
         \"k8s\\0\"); send the object as JSON (Content-Type: application/json) instead"
    )]
    MissingMagic,
    /// The bytes are not a valid protobuf encoding of the named kind.
    #[error(
        "malformed protobuf body at {context}: {reason}; send the object as JSON \
         (Content-Type: application/json) instead"
    )]
    Malformed {
        /// Where the problem was found, e.g. `Deployment spec.template.spec.containers[0]`.
        context: String,
        /// What is wrong.
        reason: String,
    },
    /// The envelope does not name the object's apiVersion and kind, or carries no object.
    #[error("the protobuf envelope {0}; send the object as JSON (Content-Type: application/json) instead")]
    BadEnvelope(&'static str),
    /// The kind is not one this server can decode from protobuf.
    #[error(
        "decoding {kind} ({api_version}) from protobuf is not supported; supported kinds are {supported}. \
         Send the object as JSON (Content-Type: application/json) instead"
    )]
    UnsupportedKind {
        /// The envelope's apiVersion.
        api_version: String,
        /// The envelope's kind.
        kind: String,
        /// The supported kinds, comma separated, as `apiVersion/Kind`.
        supported: String,
    },
    /// The envelope says the object is compressed or not protobuf-encoded.
    #[error(
        "the protobuf envelope carries {what} {value:?}, which is not supported; send the object as plain \
         protobuf or as JSON (Content-Type: application/json) instead"
    )]
    UnsupportedContent {
        /// `content encoding` or `content type`.
        what: &'static str,
        /// The value found in the envelope.
        value: String,
    },
}

/// True when `content_type` is the Kubernetes protobuf media type (parameters such as `;charset=`
/// are ignored; the comparison is case-insensitive).
pub fn is_protobuf(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case(PROTOBUF_MEDIA_TYPE)
}

/// The kinds [`decode`] understands, as `(apiVersion, kind)` pairs.
pub fn supported_kinds() -> impl Iterator<Item = (&'static str, &'static str)> {
    KINDS.iter().map(|(api_version, kind, _)| (*api_version, *kind))
}

/// Decode a Kubernetes protobuf body (magic prefix + `runtime.Unknown` envelope) into the JSON
/// object a client would have sent for it, with `apiVersion` and `kind` taken from the envelope.
///
/// Errors say what is wrong; an unsupported kind lists the supported kinds. Every error suggests
/// sending the object as JSON (`Content-Type: application/json`) instead.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let rest = body.strip_prefix(MAGIC.as_slice()).ok_or(ProtobufError::MissingMagic)?;
    let envelope = Envelope::parse(rest).map_err(|e| e.into_error("runtime.Unknown envelope"))?;
    if !envelope.content_encoding.is_empty() {
        return Err(ProtobufError::UnsupportedContent {
            what: "content encoding",
            value: envelope.content_encoding.into_owned(),
        });
    }
    if !envelope.content_type.is_empty() && !is_protobuf(&envelope.content_type) {
        return Err(ProtobufError::UnsupportedContent {
            what: "content type",
            value: envelope.content_type.into_owned(),
        });
    }
    if envelope.api_version.is_empty() || envelope.kind.is_empty() {
        return Err(ProtobufError::BadEnvelope("does not name the object's apiVersion and kind"));
    }
    let raw = envelope.raw.ok_or(ProtobufError::BadEnvelope("carries no object"))?;
    let (api_version, kind) = (envelope.api_version.as_ref(), envelope.kind.as_ref());
    let Some((_, _, message)) = KINDS.iter().find(|(v, k, _)| *v == api_version && *k == kind) else {
        let supported: Vec<String> = supported_kinds().map(|(v, k)| format!("{v}/{k}")).collect();
        return Err(ProtobufError::UnsupportedKind {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            supported: supported.join(", "),
        });
    };
    let fields = decode_message(message, raw).map_err(|e| e.into_error(kind))?;
    let mut object = Map::new();
    object.insert("apiVersion".to_owned(), Value::String(api_version.to_owned()));
    object.insert("kind".to_owned(), Value::String(kind.to_owned()));
    object.extend(fields);
    Ok(Value::Object(object))
}

/// A decoding failure below the envelope, with the JSON path to where it happened (innermost first).
#[derive(Debug)]
struct WireError {
    path: Vec<String>,
    reason: String,
    /// Whether `reason` already names the protobuf field it was found in.
    located: bool,
}

impl WireError {
    fn new(reason: impl Into<String>) -> Self {
        WireError { path: Vec::new(), reason: reason.into(), located: false }
    }

    /// Name the innermost protobuf field the error was found in (only the first call has effect).
    fn in_field(mut self, num: u32, message: &Message) -> Self {
        if !self.located {
            self.reason = format!("{} (field {num} of {})", self.reason, message.name);
            self.located = true;
        }
        self
    }

    /// Record that the error happened inside `segment`.
    fn within(mut self, segment: impl Into<String>) -> Self {
        self.path.push(segment.into());
        self
    }

    fn into_error(self, root: &str) -> ProtobufError {
        let mut context = root.to_owned();
        for (i, segment) in self.path.iter().rev().enumerate() {
            context.push(if i == 0 { ' ' } else { '.' });
            context.push_str(segment);
        }
        ProtobufError::Malformed { context, reason: self.reason }
    }
}

type WireResult<T> = Result<T, WireError>;

/// Protobuf wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;

/// A cursor over protobuf-encoded bytes.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn varint(&mut self) -> WireResult<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = *self.data.get(self.pos).ok_or_else(|| WireError::new("the body ends inside a varint"))?;
            self.pos += 1;
            if i == 9 && byte > 1 {
                return Err(WireError::new("a varint is longer than 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::new("a varint is longer than 10 bytes"))
    }

    fn take(&mut self, len: usize) -> WireResult<&'a [u8]> {
        let end = self.pos.checked_add(len).filter(|end| *end <= self.data.len());
        let end = end.ok_or_else(|| WireError::new("the body ends before the end of a field (truncated?)"))?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn length_delimited(&mut self) -> WireResult<&'a [u8]> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| WireError::new("a length prefix is too large"))?;
        self.take(len)
    }

    /// Read a field key: (field number, wire type).
    fn key(&mut self) -> WireResult<(u32, u8)> {
        let key = self.varint()?;
        let num = u32::try_from(key >> 3).map_err(|_| WireError::new("a field number is out of range"))?;
        if num == 0 {
            return Err(WireError::new("field number 0 is not valid"));
        }
        Ok((num, (key & 7) as u8))
    }

    /// Skip the value of a field the schema does not know.
    fn skip(&mut self, wire: u8) -> WireResult<()> {
        match wire {
            VARINT => self.varint().map(drop),
            FIXED64 => self.take(8).map(drop),
            LEN => self.length_delimited().map(drop),
            FIXED32 => self.take(4).map(drop),
            START_GROUP => {
                let mut depth = 1usize;
                while depth > 0 {
                    let (_, wire) = self.key()?;
                    match wire {
                        START_GROUP => depth += 1,
                        END_GROUP => depth -= 1,
                        other => self.skip(other)?,
                    }
                }
                Ok(())
            }
            END_GROUP => Err(WireError::new("an end-group marker has no matching start")),
            other => Err(WireError::new(format!("unknown wire type {other}"))),
        }
    }
}

/// Calls `visit` for every field of the message in `data`; `visit` must consume the field's value.
fn for_each_field<'a>(
    data: &'a [u8],
    mut visit: impl FnMut(u32, u8, &mut Reader<'a>) -> WireResult<()>,
) -> WireResult<()> {
    let mut reader = Reader::new(data);
    while !reader.at_end() {
        let (num, wire) = reader.key()?;
        visit(num, wire, &mut reader)?;
    }
    Ok(())
}

fn expect_wire(wire: u8, expected: u8, what: &str) -> WireResult<()> {
    if wire == expected {
        Ok(())
    } else {
        Err(WireError::new(format!("expected {what} (wire type {expected}), found wire type {wire}")))
    }
}

/// The `runtime.Unknown` envelope.
struct Envelope<'a> {
    api_version: Cow<'a, str>,
    kind: Cow<'a, str>,
    raw: Option<&'a [u8]>,
    content_encoding: Cow<'a, str>,
    content_type: Cow<'a, str>,
}

impl<'a> Envelope<'a> {
    fn parse(data: &'a [u8]) -> WireResult<Self> {
        let mut envelope = Envelope {
            api_version: Cow::Borrowed(""),
            kind: Cow::Borrowed(""),
            raw: None,
            content_encoding: Cow::Borrowed(""),
            content_type: Cow::Borrowed(""),
        };
        for_each_field(data, |num, wire, reader| match num {
            1 => {
                expect_wire(wire, LEN, "a message").map_err(|e| e.within("typeMeta"))?;
                let type_meta = reader.length_delimited()?;
                for_each_field(type_meta, |num, wire, reader| match num {
                    1 => {
                        envelope.api_version = read_str(wire, reader)?;
                        Ok(())
                    }
                    2 => {
                        envelope.kind = read_str(wire, reader)?;
                        Ok(())
                    }
                    _ => reader.skip(wire),
                })
                .map_err(|e| e.within("typeMeta"))
            }
            2 => {
                expect_wire(wire, LEN, "bytes").map_err(|e| e.within("raw"))?;
                envelope.raw = Some(reader.length_delimited()?);
                Ok(())
            }
            3 => {
                envelope.content_encoding = read_str(wire, reader)?;
                Ok(())
            }
            4 => {
                envelope.content_type = read_str(wire, reader)?;
                Ok(())
            }
            _ => reader.skip(wire),
        })?;
        Ok(envelope)
    }
}

fn read_str<'a>(wire: u8, reader: &mut Reader<'a>) -> WireResult<Cow<'a, str>> {
    expect_wire(wire, LEN, "a string")?;
    // Go keeps invalid UTF-8 in strings and its JSON encoder writes U+FFFD for it; so do we.
    Ok(String::from_utf8_lossy(reader.length_delimited()?))
}

/// What has been read for one field of a message.
enum Slot<'a> {
    Unset,
    /// A single scalar value (the last occurrence wins).
    Scalar(Value),
    /// The encodings of a single message-typed value, merged in order.
    Chunks(Vec<&'a [u8]>),
    /// The elements of a repeated field.
    Items(Vec<Value>),
    /// The entries of a map field.
    Entries(Map<String, Value>),
}

/// True for types encoded as a nested (length-delimited) message.
fn is_message_like(ty: Ty) -> bool {
    matches!(ty, Ty::Time | Ty::Quantity | Ty::IntOrString | Ty::RawJson | Ty::StringList | Ty::Msg(_))
}

/// Decode one message into the JSON object the Go encoder would write for it.
fn decode_message(message: &'static Message, data: &[u8]) -> WireResult<Map<String, Value>> {
    let mut slots: Vec<Slot<'_>> = message.fields.iter().map(|_| Slot::Unset).collect();
    for_each_field(data, |num, wire, reader| {
        let Some((index, field)) = message.field(num) else {
            return reader.skip(wire);
        };
        match slots.get_mut(index) {
            Some(slot) => {
                read_field(field, wire, reader, slot).map_err(|e| within(e.in_field(num, message), field, slot))
            }
            None => reader.skip(wire),
        }
    })?;
    let mut object = Map::new();
    for (field, slot) in message.fields.iter().zip(slots) {
        emit(field, slot, &mut object).map_err(|e| within(e.in_field(field.num, message), field, &Slot::Unset))?;
    }
    Ok(object)
}

/// Record that `error` happened inside `field` (inline fields add no path segment; list fields add
/// the index of the element being read).
fn within(error: WireError, field: &Field, slot: &Slot<'_>) -> WireError {
    match (field.card, slot) {
        _ if field.emit == Emit::Inline => error,
        (Card::List, Slot::Items(items)) => error.within(format!("{}[{}]", field.json, items.len())),
        (Card::List, _) => error.within(format!("{}[0]", field.json)),
        _ => error.within(field.json),
    }
}

fn read_field<'a>(field: &Field, wire: u8, reader: &mut Reader<'a>, slot: &mut Slot<'a>) -> WireResult<()> {
    match field.card {
        Card::One if is_message_like(field.ty) => {
            expect_wire(wire, LEN, "a message")?;
            let chunk = reader.length_delimited()?;
            match slot {
                Slot::Chunks(chunks) => chunks.push(chunk),
                other => *other = Slot::Chunks(vec![chunk]),
            }
        }
        Card::One => *slot = Slot::Scalar(read_value(field.ty, wire, reader)?),
        Card::List => {
            let mut items = match std::mem::replace(slot, Slot::Unset) {
                Slot::Items(items) => items,
                _ => Vec::new(),
            };
            let packed = wire == LEN && matches!(field.ty, Ty::I32 | Ty::I64 | Ty::Bool);
            let result = if packed {
                read_packed(field.ty, reader, &mut items)
            } else {
                read_value(field.ty, wire, reader).map(|value| items.push(value))
            };
            *slot = Slot::Items(items);
            result?;
        }
        Card::Map => {
            expect_wire(wire, LEN, "a map entry")?;
            let (key, value) = read_map_entry(field.ty, reader.length_delimited()?)?;
            match slot {
                Slot::Entries(entries) => {
                    entries.insert(key, value);
                }
                other => *other = Slot::Entries(Map::from_iter([(key, value)])),
            }
        }
    }
    Ok(())
}

/// Read a complete value of type `ty` whose key has wire type `wire`.
fn read_value(ty: Ty, wire: u8, reader: &mut Reader<'_>) -> WireResult<Value> {
    match ty {
        Ty::Str => Ok(Value::String(read_str(wire, reader)?.into_owned())),
        Ty::Bytes => {
            expect_wire(wire, LEN, "bytes")?;
            Ok(Value::String(base64(reader.length_delimited()?)))
        }
        Ty::I32 | Ty::I64 | Ty::Bool => {
            expect_wire(wire, VARINT, "a varint")?;
            Ok(varint_value(ty, reader.varint()?))
        }
        Ty::Time | Ty::Quantity | Ty::IntOrString | Ty::RawJson | Ty::StringList | Ty::Msg(_) => {
            expect_wire(wire, LEN, "a message")?;
            decode_value(ty, &[reader.length_delimited()?])
        }
    }
}

fn varint_value(ty: Ty, raw: u64) -> Value {
    match ty {
        Ty::Bool => Value::Bool(raw != 0),
        // int32 values are sign-extended to 64 bits on the wire; Go keeps the low 32 bits.
        Ty::I32 => Value::from(raw as i32),
        _ => Value::from(raw as i64),
    }
}

fn read_packed(ty: Ty, reader: &mut Reader<'_>, items: &mut Vec<Value>) -> WireResult<()> {
    let mut packed = Reader::new(reader.length_delimited()?);
    while !packed.at_end() {
        items.push(varint_value(ty, packed.varint()?));
    }
    Ok(())
}

/// Read one `map<string, ty>` entry (key = field 1, value = field 2).
fn read_map_entry(ty: Ty, data: &[u8]) -> WireResult<(String, Value)> {
    let mut key = Cow::Borrowed("");
    let mut scalar = None;
    let mut chunks = Vec::new();
    for_each_field(data, |num, wire, reader| match num {
        1 => {
            key = read_str(wire, reader)?;
            Ok(())
        }
        2 if is_message_like(ty) => {
            expect_wire(wire, LEN, "a message")?;
            chunks.push(reader.length_delimited()?);
            Ok(())
        }
        2 => {
            scalar = Some(read_value(ty, wire, reader)?);
            Ok(())
        }
        _ => reader.skip(wire),
    })
    .map_err(|e| e.within("(map entry)"))?;
    let value = match (scalar, ty) {
        (Some(value), _) => value,
        // A missing value is the type's zero value; Go decodes a missing []byte as empty, not nil.
        (None, Ty::Bytes) => Value::String(String::new()),
        (None, Ty::StringList) if chunks.is_empty() => Value::Array(Vec::new()),
        (None, ty) if is_message_like(ty) => decode_value(ty, &chunks).map_err(|e| e.within(key.as_ref()))?,
        (None, ty) => zero_value(ty)?,
    };
    Ok((key.into_owned(), value))
}

/// Decode a message-typed value from its (possibly several, merged) encodings.
fn decode_value(ty: Ty, chunks: &[&[u8]]) -> WireResult<Value> {
    // Kubernetes' Time replaces itself on every occurrence; generated messages merge, which is the
    // same as decoding the concatenated encodings.
    let data: Cow<'_, [u8]> = match (ty, chunks) {
        (Ty::Time, [.., last]) | (_, [last]) => Cow::Borrowed(last),
        (_, []) => Cow::Borrowed(&[]),
        (_, many) => Cow::Owned(many.concat()),
    };
    match ty {
        Ty::Msg(message) => decode_message(message, &data).map(Value::Object),
        Ty::Time => decode_time(&data),
        Ty::Quantity => decode_quantity(&data),
        Ty::IntOrString => decode_int_or_string(&data),
        Ty::RawJson => decode_raw_json(&data),
        Ty::StringList => {
            let mut items = Vec::new();
            for_each_field(&data, |num, wire, reader| match num {
                1 => {
                    items.push(Value::String(read_str(wire, reader)?.into_owned()));
                    Ok(())
                }
                _ => reader.skip(wire),
            })?;
            Ok(Value::Array(items))
        }
        Ty::Str | Ty::I32 | Ty::I64 | Ty::Bool | Ty::Bytes => {
            Err(WireError::new("a scalar field was encoded as a message"))
        }
    }
}

/// The JSON the Go encoder writes for a field that is absent from the wire.
fn zero_value(ty: Ty) -> WireResult<Value> {
    Ok(match ty {
        Ty::Str => Value::String(String::new()),
        Ty::I32 | Ty::I64 => Value::from(0),
        Ty::Bool => Value::Bool(false),
        Ty::Bytes | Ty::Time | Ty::RawJson | Ty::StringList => Value::Null,
        Ty::Quantity => Value::String("0".to_owned()),
        Ty::IntOrString => Value::from(0),
        Ty::Msg(message) => Value::Object(decode_message(message, &[])?),
    })
}

/// Go's `omitempty` test for the values a non-struct field can take.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0) || n.as_u64() == Some(0) || n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(entries) => entries.is_empty(),
    }
}

/// Write one field into `object` following its JSON emission rule.
fn emit(field: &Field, slot: Slot<'_>, object: &mut Map<String, Value>) -> WireResult<()> {
    let key = field.json;
    match field.card {
        Card::One => {
            let value = match slot {
                Slot::Scalar(value) => Some(value),
                Slot::Chunks(chunks) => Some(decode_value(field.ty, &chunks)?),
                Slot::Unset | Slot::Items(_) | Slot::Entries(_) => None,
            };
            match (field.emit, value) {
                (Emit::Inline, value) => match value.map_or_else(|| zero_value(field.ty), Ok)? {
                    Value::Object(inner) => object.extend(inner),
                    _ => return Err(WireError::new("an inline field is not a message")),
                },
                (Emit::Always, None) => {
                    object.insert(key.to_owned(), zero_value(field.ty)?);
                }
                (Emit::NullIfUnset, None) => {
                    object.insert(key.to_owned(), Value::Null);
                }
                (Emit::OmitEmpty, Some(value)) if is_empty(&value) => {}
                (Emit::OmitEmpty | Emit::IfSet, None) => {}
                (Emit::Always | Emit::NullIfUnset | Emit::OmitEmpty | Emit::IfSet, Some(value)) => {
                    object.insert(key.to_owned(), value);
                }
            }
        }
        Card::List => {
            let items = match slot {
                Slot::Items(items) => items,
                _ => Vec::new(),
            };
            if !items.is_empty() {
                object.insert(key.to_owned(), Value::Array(items));
            } else if field.emit == Emit::Always {
                object.insert(key.to_owned(), Value::Null);
            }
        }
        Card::Map => {
            let entries = match slot {
                Slot::Entries(entries) => entries,
                _ => Map::new(),
            };
            if !entries.is_empty() {
                object.insert(key.to_owned(), Value::Object(entries));
            } else if field.emit == Emit::Always {
                object.insert(key.to_owned(), Value::Null);
            }
        }
    }
    Ok(())
}

/// `metav1.Time`: empty = the zero time (JSON null); otherwise whole seconds since the epoch,
/// written as RFC 3339 in UTC (Kubernetes drops the nanoseconds).
fn decode_time(data: &[u8]) -> WireResult<Value> {
    if data.is_empty() {
        return Ok(Value::Null);
    }
    let mut seconds = 0i64;
    for_each_field(data, |num, wire, reader| match num {
        1 => {
            expect_wire(wire, VARINT, "a varint")?;
            seconds = reader.varint()? as i64;
            Ok(())
        }
        _ => reader.skip(wire),
    })?;
    format_rfc3339(seconds).map(Value::String)
}

/// Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z relative to the Unix epoch.
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

fn format_rfc3339(seconds: i64) -> WireResult<String> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
        return Err(WireError::new(format!("timestamp {seconds} is outside the years 0001 to 9999")));
    }
    let days = seconds.div_euclid(86_400);
    let secs_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    Ok(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60
    ))
}

/// Proleptic Gregorian (year, month, day) of a day count relative to 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    // Count from 0000-03-01 so that leap days fall at the end of each (March-based) year.
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `resource.Quantity`: field 1 is its canonical string, which is also its JSON form.
fn decode_quantity(data: &[u8]) -> WireResult<Value> {
    let mut text = Cow::Borrowed("");
    for_each_field(data, |num, wire, reader| match num {
        1 => {
            text = read_str(wire, reader)?;
            Ok(())
        }
        _ => reader.skip(wire),
    })?;
    Ok(Value::String(if text.is_empty() { "0".to_owned() } else { text.into_owned() }))
}

/// `intstr.IntOrString`: type (0 = int, 1 = string), intVal, strVal.
fn decode_int_or_string(data: &[u8]) -> WireResult<Value> {
    let (mut kind, mut int_val, mut str_val) = (0i64, 0i32, Cow::Borrowed(""));
    for_each_field(data, |num, wire, reader| match num {
        1 | 2 => {
            expect_wire(wire, VARINT, "a varint")?;
            let raw = reader.varint()?;
            if num == 1 {
                kind = raw as i64;
            } else {
                int_val = raw as i32;
            }
            Ok(())
        }
        3 => {
            str_val = read_str(wire, reader)?;
            Ok(())
        }
        _ => reader.skip(wire),
    })?;
    match kind {
        0 => Ok(Value::from(int_val)),
        1 => Ok(Value::String(str_val.into_owned())),
        other => Err(WireError::new(format!("int-or-string has unknown type {other} (expected 0 or 1)"))),
    }
}

/// `metav1.FieldsV1`: field 1 holds a JSON document.
fn decode_raw_json(data: &[u8]) -> WireResult<Value> {
    let mut raw: &[u8] = &[];
    for_each_field(data, |num, wire, reader| match num {
        1 => {
            expect_wire(wire, LEN, "bytes")?;
            raw = reader.length_delimited()?;
            Ok(())
        }
        _ => reader.skip(wire),
    })?;
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(raw).map_err(|e| WireError::new(format!("embedded JSON is invalid: {e}")))
}

/// Standard base64 with padding, as Go's encoding/json writes `[]byte`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A captured kubectl 1.32 request body and the JSON kubectl prints for the same command with
    /// `-o json --dry-run=client` (or, where kubectl has no dry run, the JSON the Go types encode to).
    macro_rules! fixture {
        ($name:literal) => {
            (
                $name,
                include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/protobuf/", $name, ".pb"))
                    .as_slice(),
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/protobuf/", $name, ".json")),
            )
        };
    }

    const FIXTURES: &[(&str, &[u8], &str)] = &[
        fixture!("namespace"),
        fixture!("save_config"),
        fixture!("configmap"),
        fixture!("configmap_empty"),
        fixture!("secret"),
        fixture!("secret_docker"),
        fixture!("serviceaccount"),
        fixture!("service_clusterip"),
        fixture!("service_headless"),
        fixture!("service_nodeport"),
        fixture!("service_lb"),
        fixture!("service_external"),
        fixture!("deployment"),
        fixture!("deployment_multi"),
        fixture!("job"),
        fixture!("job_from_cronjob"),
        fixture!("job_rich"),
        fixture!("cronjob"),
        fixture!("quota"),
        fixture!("priorityclass"),
        fixture!("role"),
        fixture!("rolebinding"),
        fixture!("clusterrole"),
        fixture!("clusterrolebinding"),
        fixture!("pdb"),
        fixture!("ingress"),
        fixture!("autoscale"),
        fixture!("token"),
        fixture!("can_i"),
        fixture!("can_i_subresource"),
        fixture!("can_i_nonresource"),
        fixture!("can_i_list"),
        fixture!("whoami"),
    ];

    // ---- a tiny protobuf encoder for hand-built inputs ----

    fn varint(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    fn key(num: u32, wire: u8) -> Vec<u8> {
        varint(u64::from(num) << 3 | u64::from(wire))
    }

    fn ld(num: u32, payload: &[u8]) -> Vec<u8> {
        [key(num, LEN), varint(payload.len() as u64), payload.to_vec()].concat()
    }

    fn vint(num: u32, v: u64) -> Vec<u8> {
        [key(num, VARINT), varint(v)].concat()
    }

    fn body(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let type_meta = [ld(1, api_version.as_bytes()), ld(2, kind.as_bytes())].concat();
        [MAGIC.to_vec(), ld(1, &type_meta), ld(2, raw), ld(3, b""), ld(4, b"")].concat()
    }

    fn malformed_reason(err: ProtobufError) -> (String, String) {
        match err {
            ProtobufError::Malformed { context, reason } => (context, reason),
            other => panic!("expected a Malformed error, got {other:?}"),
        }
    }

    // ---- captured kubectl bodies ----

    #[test]
    fn captured_kubectl_bodies_decode_to_the_json_kubectl_would_send() {
        for (name, pb, json) in FIXTURES {
            let expected: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}.json: {e}"));
            let decoded = decode(pb).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(decoded, expected, "{name}:\n{}", serde_json::to_string_pretty(&decoded).unwrap_or_default());
        }
    }

    #[test]
    fn deployment_fields_are_decoded() {
        let (_, pb, _) = fixture!("deployment");
        let d = decode(pb).expect("decodes");
        assert_eq!(d["apiVersion"], "apps/v1");
        assert_eq!(d["kind"], "Deployment");
        assert_eq!(d["spec"]["replicas"], 2);
        assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], "d1");
        assert_eq!(d["metadata"]["creationTimestamp"], Value::Null);
        let container = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], "busybox");
        assert_eq!(container["ports"], json!([{"containerPort": 80}]));
        assert_eq!(container["resources"], json!({}));
    }

    #[test]
    fn secret_and_configmap_bytes_are_base64() {
        let (_, pb, _) = fixture!("secret");
        let s = decode(pb).expect("decodes");
        assert_eq!(s["data"]["a"], "Yg==");
        assert_eq!(s["data"]["data.bin"], "AAEC//4=");
        let (_, pb, _) = fixture!("configmap");
        let c = decode(pb).expect("decodes");
        assert_eq!(c["data"]["k"], "v");
        assert_eq!(c["binaryData"]["blob"], "AAEC//4=");
    }

    #[test]
    fn job_from_cronjob_keeps_owner_references_and_annotations() {
        let (_, pb, _) = fixture!("job_from_cronjob");
        let j = decode(pb).expect("decodes");
        let owner = &j["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "CronJob");
        assert_eq!(owner["controller"], true);
        assert_eq!(j["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"], "manual");
    }

    // ---- bad input ----

    #[test]
    fn every_truncation_of_a_captured_body_is_an_error_or_decodes_without_panicking() {
        for (name, pb, _) in FIXTURES {
            let full = decode(pb).expect("full body decodes");
            for len in 0..pb.len() {
                // A prefix may end on a field boundary after the object (the trailing empty
                // contentEncoding/contentType fields); it must then decode to the same object.
                if let Ok(value) = decode(&pb[..len]) {
                    assert_eq!(value, full, "{name}: prefix of {len} bytes decoded to something else");
                    assert!(len + 4 >= pb.len(), "{name}: prefix of {len} bytes was accepted");
                }
            }
        }
    }

    #[test]
    fn truncated_object_is_a_malformed_error() {
        let (_, pb, _) = fixture!("deployment");
        let err = decode(&pb[..pb.len() - 30]).expect_err("truncated");
        let (context, reason) = malformed_reason(err.clone());
        assert_eq!(context, "runtime.Unknown envelope");
        assert!(reason.contains("truncated"), "{reason}");
        assert!(err.to_string().contains("Content-Type: application/json"), "{err}");
    }

    #[test]
    fn corrupted_bodies_never_panic() {
        // Deterministic pseudo-random byte flips and garbage.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for (_, pb, _) in FIXTURES {
            for _ in 0..300 {
                let mut copy = pb.to_vec();
                for _ in 0..1 + next() % 4 {
                    let i = 4 + (next() as usize) % (copy.len() - 4);
                    copy[i] = next() as u8;
                }
                let _ = decode(&copy);
            }
        }
        for len in 0..200 {
            let garbage: Vec<u8> = MAGIC.iter().copied().chain((0..len).map(|_| next() as u8)).collect();
            let _ = decode(&garbage);
        }
    }

    #[test]
    fn body_without_magic_is_rejected() {
        assert_eq!(decode(b"{\"kind\":\"Namespace\"}"), Err(ProtobufError::MissingMagic));
        assert_eq!(decode(b""), Err(ProtobufError::MissingMagic));
        assert_eq!(decode(b"k8s"), Err(ProtobufError::MissingMagic));
        assert!(ProtobufError::MissingMagic.to_string().contains("application/json"));
    }

    #[test]
    fn unknown_kind_names_the_supported_kinds() {
        let err = decode(&body("example.com/v1", "Widget", &[])).expect_err("unsupported");
        let message = err.to_string();
        assert!(matches!(err, ProtobufError::UnsupportedKind { ref kind, .. } if kind == "Widget"));
        assert!(message.contains("Widget (example.com/v1)"), "{message}");
        assert!(message.contains("apps/v1/Deployment"), "{message}");
        assert!(message.contains("v1/Namespace"), "{message}");
        assert!(message.contains("Content-Type: application/json"), "{message}");
        // A known kind under another version is not silently decoded with the wrong schema.
        let err = decode(&body("autoscaling/v2", "HorizontalPodAutoscaler", &[])).expect_err("unsupported");
        assert!(matches!(err, ProtobufError::UnsupportedKind { .. }));
    }

    #[test]
    fn envelope_problems_are_reported() {
        let no_kind = [MAGIC.to_vec(), ld(1, &ld(1, b"v1")), ld(2, b"")].concat();
        assert!(matches!(decode(&no_kind), Err(ProtobufError::BadEnvelope(_))));
        let no_raw = [MAGIC.to_vec(), ld(1, &[ld(1, b"v1"), ld(2, b"Namespace")].concat())].concat();
        assert_eq!(decode(&no_raw), Err(ProtobufError::BadEnvelope("carries no object")));
        let mut gzip = body("v1", "Namespace", &[]);
        gzip.extend(ld(3, b"gzip"));
        assert!(matches!(decode(&gzip), Err(ProtobufError::UnsupportedContent { what: "content encoding", .. })));
        let mut json_raw = body("v1", "Namespace", b"{}");
        json_raw.extend(ld(4, b"application/json"));
        assert!(matches!(decode(&json_raw), Err(ProtobufError::UnsupportedContent { what: "content type", .. })));
        let mut proto_raw = body("v1", "Namespace", &[]);
        proto_raw.extend(ld(4, b"application/vnd.kubernetes.protobuf"));
        assert!(decode(&proto_raw).is_ok());
    }

    #[test]
    fn wrong_wire_type_is_an_error_with_a_path() {
        // metadata.name (string) encoded as a varint.
        let raw = ld(1, &vint(1, 5));
        let (context, reason) = malformed_reason(decode(&body("v1", "Namespace", &raw)).expect_err("bad"));
        assert_eq!(context, "Namespace metadata.name");
        assert!(reason.contains("wire type"), "{reason}");
        // spec.template.spec.containers[1].ports[0].containerPort as a string.
        let port = ld(3, b"x");
        let second = [ld(1, b"b"), ld(6, &port)].concat();
        let pod_spec = [ld(2, &ld(1, b"a")), ld(2, &second)].concat();
        let raw = ld(2, &ld(3, &ld(2, &pod_spec)));
        let err = decode(&body("apps/v1", "Deployment", &raw)).expect_err("bad");
        assert_eq!(
            err.to_string(),
            "malformed protobuf body at Deployment spec.template.spec.containers[1].ports[0].containerPort: \
             expected a varint (wire type 0), found wire type 2 (field 3 of ContainerPort); send the object as \
             JSON (Content-Type: application/json) instead"
        );
    }

    #[test]
    fn bad_varints_and_keys_are_errors() {
        // Field 50 is unknown to the schema, so these exercise the skipping reader.
        let overlong = [key(50, VARINT), vec![0xff; 10], vec![0x01]].concat();
        let (_, reason) = malformed_reason(decode(&body("v1", "Namespace", &overlong)).expect_err("bad"));
        assert!(reason.contains("varint"), "{reason}");
        let too_big = [key(50, VARINT), vec![0xff; 9], vec![0x02]].concat();
        assert!(decode(&body("v1", "Namespace", &too_big)).is_err());
        assert!(decode(&body("v1", "Namespace", &[0x00])).is_err(), "field number 0");
        assert!(decode(&body("v1", "Namespace", &key(50, END_GROUP))).is_err(), "stray end-group");
        assert!(decode(&body("v1", "Namespace", &key(50, 6))).is_err(), "wire type 6");
        assert!(decode(&body("v1", "Namespace", &key(50, START_GROUP))).is_err(), "unterminated group");
        assert!(decode(&body("v1", "Namespace", &key(50, FIXED64))).is_err(), "short fixed64");
        let huge_len = [key(1, LEN), varint(u64::MAX)].concat();
        assert!(decode(&body("v1", "Namespace", &huge_len)).is_err());
    }

    // ---- field semantics ----

    #[test]
    fn unknown_fields_of_every_wire_type_are_skipped() {
        let group = [key(90, START_GROUP), vint(1, 7), key(91, START_GROUP), key(91, END_GROUP), key(90, END_GROUP)];
        let meta = [
            vint(99, 5),
            [key(98, FIXED64), vec![0; 8]].concat(),
            [key(97, FIXED32), vec![0; 4]].concat(),
            ld(96, b"ignored"),
            group.concat(),
            ld(1, b"ns1"),
        ]
        .concat();
        let ns = decode(&body("v1", "Namespace", &ld(1, &meta))).expect("decodes");
        assert_eq!(ns["metadata"], json!({"name": "ns1", "creationTimestamp": null}));
        assert_eq!(ns["spec"], json!({}));
        assert_eq!(ns["status"], json!({}));
    }

    #[test]
    fn omitted_and_pointer_fields_follow_the_go_json_rules() {
        // ServicePort: name (omitempty) empty, port (always) absent → 0, targetPort as string.
        let target = [vint(1, 1), ld(3, b"http")].concat();
        let port = [ld(1, b""), ld(4, &target)].concat();
        // ServiceSpec: ports, externalTrafficPolicy, sessionAffinityConfig absent (pointer).
        let spec = ld(1, &port);
        let svc = decode(&body("v1", "Service", &ld(2, &spec))).expect("decodes");
        assert_eq!(svc["spec"]["ports"], json!([{"port": 0, "targetPort": "http"}]));
        assert!(svc["spec"].get("sessionAffinityConfig").is_none());
        // Deployment: replicas (pointer) set to 0 is written; selector (pointer, no omitempty) → null.
        let dep = decode(&body("apps/v1", "Deployment", &ld(2, &vint(1, 0)))).expect("decodes");
        assert_eq!(dep["spec"]["replicas"], 0);
        assert_eq!(dep["spec"]["selector"], Value::Null);
        assert_eq!(
            dep["spec"]["template"],
            json!({"metadata": {"creationTimestamp": null}, "spec": {"containers": null}})
        );
        // Role.rules has no omitempty: an empty list is null.
        let role = decode(&body("rbac.authorization.k8s.io/v1", "Role", &[])).expect("decodes");
        assert_eq!(role["rules"], Value::Null);
    }

    #[test]
    fn int32_negative_and_packed_repeated_values() {
        // PodSecurityContext.supplementalGroups (repeated int64): unpacked then packed.
        let packed: Vec<u8> = [varint(3), varint(4)].concat();
        let psc = [vint(4, 1), vint(4, 2), ld(4, &packed), vint(5, u64::MAX)].concat(); // fsGroup = -1
        let pod = decode(&body("v1", "Pod", &ld(2, &ld(14, &psc)))).expect("decodes");
        assert_eq!(pod["spec"]["securityContext"]["supplementalGroups"], json!([1, 2, 3, 4]));
        assert_eq!(pod["spec"]["securityContext"]["fsGroup"], -1);
        // Container.ports[].containerPort: int32 encoded as a 10-byte negative varint.
        let port = vint(3, (-5i64) as u64);
        let pod = decode(&body("v1", "Pod", &ld(2, &ld(2, &ld(6, &port))))).expect("decodes");
        assert_eq!(pod["spec"]["containers"][0]["ports"][0]["containerPort"], -5);
    }

    #[test]
    fn maps_with_missing_keys_or_values_use_zero_values() {
        let entry_no_value = ld(11, &ld(1, b"empty"));
        let entry_no_key = ld(11, &ld(2, b"v"));
        let meta = [entry_no_value, entry_no_key].concat();
        let cm = decode(&body("v1", "ConfigMap", &ld(1, &meta))).expect("decodes");
        assert_eq!(cm["metadata"]["labels"], json!({"empty": "", "": "v"}));
        let secret = decode(&body("v1", "Secret", &ld(2, &ld(1, b"k")))).expect("decodes");
        assert_eq!(secret["data"], json!({"k": ""}));
    }

    #[test]
    fn repeated_message_fields_merge() {
        // metadata sent in two pieces: protobuf merges them.
        let raw = [ld(1, &ld(1, b"a")), ld(1, &ld(3, b"ns"))].concat();
        let cm = decode(&body("v1", "ConfigMap", &raw)).expect("decodes");
        assert_eq!(cm["metadata"]["name"], "a");
        assert_eq!(cm["metadata"]["namespace"], "ns");
    }

    #[test]
    fn times_are_rfc3339_utc_and_zero_is_null() {
        assert_eq!(format_rfc3339(0).ok(), Some("1970-01-01T00:00:00Z".to_owned()));
        assert_eq!(format_rfc3339(951_782_400).ok(), Some("2000-02-29T00:00:00Z".to_owned()));
        assert_eq!(format_rfc3339(1_732_477_845).ok(), Some("2024-11-24T19:50:45Z".to_owned()));
        assert_eq!(format_rfc3339(-1).ok(), Some("1969-12-31T23:59:59Z".to_owned()));
        assert_eq!(format_rfc3339(MIN_SECONDS).ok(), Some("0001-01-01T00:00:00Z".to_owned()));
        assert_eq!(format_rfc3339(MAX_SECONDS).ok(), Some("9999-12-31T23:59:59Z".to_owned()));
        assert!(format_rfc3339(MAX_SECONDS + 1).is_err());
        assert!(format_rfc3339(i64::MIN).is_err());
        // creationTimestamp (field 8) present with seconds; nanos are dropped as Kubernetes does.
        let ts = [vint(1, 1_732_477_845), vint(2, 999)].concat();
        let ns = decode(&body("v1", "Namespace", &ld(1, &ld(8, &ts)))).expect("decodes");
        assert_eq!(ns["metadata"]["creationTimestamp"], "2024-11-24T19:50:45Z");
        // deletionTimestamp (pointer) present but zero → null; epoch (explicit 0) is a real time.
        let ns = decode(&body("v1", "Namespace", &ld(1, &[ld(9, b""), ld(8, &vint(1, 0))].concat()))).expect("ok");
        assert_eq!(ns["metadata"]["deletionTimestamp"], Value::Null);
        assert_eq!(ns["metadata"]["creationTimestamp"], "1970-01-01T00:00:00Z");
        let far = ld(1, &ld(8, &vint(1, 1 << 40)));
        assert!(decode(&body("v1", "Namespace", &far)).is_err());
    }

    #[test]
    fn int_or_string_and_quantity() {
        assert_eq!(decode_int_or_string(&vint(2, 8080)).ok(), Some(json!(8080)));
        assert_eq!(decode_int_or_string(&[vint(1, 1), ld(3, b"50%")].concat()).ok(), Some(json!("50%")));
        assert_eq!(decode_int_or_string(&[]).ok(), Some(json!(0)));
        assert!(decode_int_or_string(&vint(1, 2)).is_err());
        assert_eq!(decode_quantity(&ld(1, b"500m")).ok(), Some(json!("500m")));
        assert_eq!(decode_quantity(&[]).ok(), Some(json!("0")));
    }

    #[test]
    fn managed_fields_carry_embedded_json() {
        let entry = [ld(1, b"kubectl"), ld(2, b"Update"), ld(7, &ld(1, br#"{"f:metadata":{}}"#))].concat();
        let ns = decode(&body("v1", "Namespace", &ld(1, &ld(17, &entry)))).expect("decodes");
        assert_eq!(
            ns["metadata"]["managedFields"],
            json!([{"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:metadata": {}}}])
        );
        let bad = ld(1, &ld(17, &ld(7, &ld(1, b"{nope"))));
        let (context, reason) = malformed_reason(decode(&body("v1", "Namespace", &bad)).expect_err("bad"));
        assert_eq!(context, "Namespace metadata.managedFields[0].fieldsV1");
        assert!(reason.contains("JSON"), "{reason}");
    }

    #[test]
    fn inline_structs_are_merged_into_the_parent() {
        // Volume{name, volumeSource{emptyDir{medium}}} → {"name", "emptyDir": {...}}
        let volume = [ld(1, b"scratch"), ld(2, &ld(2, &ld(1, b"Memory")))].concat();
        let pod = decode(&body("v1", "Pod", &ld(2, &ld(1, &volume)))).expect("decodes");
        assert_eq!(pod["spec"]["volumes"], json!([{"name": "scratch", "emptyDir": {"medium": "Memory"}}]));
    }

    #[test]
    fn extra_values_are_string_lists() {
        let extra = ld(5, &[ld(1, b"scopes"), ld(2, &[ld(1, b"a"), ld(1, b"b")].concat())].concat());
        let review = decode(&body("authorization.k8s.io/v1", "SubjectAccessReview", &ld(2, &extra))).expect("ok");
        assert_eq!(review["spec"]["extra"], json!({"scopes": ["a", "b"]}));
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let ns = decode(&body("v1", "Namespace", &ld(1, &ld(1, b"a\xffb")))).expect("decodes");
        assert_eq!(ns["metadata"]["name"], "a\u{fffd}b");
    }

    #[test]
    fn base64_matches_the_standard_encoding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn is_protobuf_matches_the_media_type_only() {
        assert!(is_protobuf("application/vnd.kubernetes.protobuf"));
        assert!(is_protobuf("Application/VND.Kubernetes.Protobuf ; charset=utf-8"));
        assert!(!is_protobuf("application/json"));
        assert!(!is_protobuf("application/vnd.kubernetes.protobuf.other"));
        assert!(!is_protobuf(""));
    }

    // ---- schema invariants ----

    fn depth(message: &'static Message, stack: &mut Vec<&'static str>) -> usize {
        assert!(!stack.contains(&message.name), "schema cycle through {stack:?} -> {}", message.name);
        stack.push(message.name);
        let mut deepest = 0;
        for field in message.fields {
            if let Ty::Msg(inner) = field.ty {
                deepest = deepest.max(depth(inner, stack));
            }
        }
        stack.pop();
        deepest + 1
    }

    #[test]
    fn schema_is_sorted_acyclic_and_unambiguous() {
        for (api_version, kind, message) in KINDS {
            assert!(depth(message, &mut Vec::new()) < 20, "{api_version} {kind} is too deep");
            let same = KINDS.iter().filter(|(v, k, _)| v == api_version && k == kind).count();
            assert_eq!(same, 1, "{api_version} {kind} is listed {same} times");
        }
        fn check(message: &'static Message) {
            for pair in message.fields.windows(2) {
                assert!(pair[0].num < pair[1].num, "{} fields are not sorted", message.name);
            }
            for field in message.fields {
                assert_eq!(field.json.is_empty(), field.emit == Emit::Inline, "{}.{}", message.name, field.json);
                if let Ty::Msg(inner) = field.ty {
                    check(inner);
                }
            }
        }
        for (_, _, message) in KINDS {
            check(message);
        }
    }
}
