//! Typed ids. Every id is a MongoDB ObjectId rendered as 24 lower-case hex digits in
//! every backend, so JSON is identical whichever store is used.

use std::fmt;
use std::str::FromStr;

use bson::oid::ObjectId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Invalid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(ObjectId);

        impl $name {
            /// A fresh id: unique, and increasing with creation time.
            #[must_use]
            pub fn new() -> Self {
                Self(ObjectId::new())
            }

            /// Parses a 24-hex id, naming `field` in the error if it is malformed.
            pub fn parse(field: &'static str, s: &str) -> Result<Self, Invalid> {
                ObjectId::parse_str(s).map(Self).map_err(|_| Invalid::new(field, concat!("not a valid ", $what, " id")))
            }

            /// The underlying ObjectId (for stores).
            #[must_use]
            pub fn object_id(self) -> ObjectId {
                self.0
            }

            /// The id as 24 lower-case hex digits.
            #[must_use]
            pub fn to_hex(self) -> String {
                self.hex().as_str().to_owned()
            }

            /// The hex digits on the stack: ids are written into every event and
            /// response, and `ObjectId::to_hex` builds a `String` a char at a time.
            fn hex(self) -> Hex {
                Hex::of(self.0.bytes())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<ObjectId> for $name {
            fn from(oid: ObjectId) -> Self {
                Self(oid)
            }
        }

        impl FromStr for $name {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Invalid> {
                Self::parse($what, s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.hex().as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.hex().as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.hex().as_str())
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                id_schema(concat!("A ", $what, " id: a MongoDB ObjectId as 24 hex digits."))
            }
        }

        // The default name is the type's own (`UserId`, …).
        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                ObjectId::parse_str(&*s).map(Self).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// An id's 24 lower-case hex digits, in place.
struct Hex([u8; 24]);

impl Hex {
    fn of(bytes: [u8; 12]) -> Self {
        let mut hex = [0; 24];
        // Cannot fail: the buffer is exactly twice the bytes.
        let _ = hex::encode_to_slice(bytes, &mut hex);
        Self(hex)
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and letters were written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The pattern every id matches on the wire (parsing also accepts upper-case digits).
#[cfg(feature = "openapi")]
pub const ID_PATTERN: &str = "^[0-9a-fA-F]{24}$";

#[cfg(feature = "openapi")]
fn id_schema(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(ID_PATTERN))
        .description(Some(description))
        .examples(["6650c0ffee0000000000abcd"])
        .into()
}

id_type!(
    /// Identifies a user.
    UserId, "user"
);
id_type!(
    /// Identifies a connection request.
    RequestId, "request"
);
id_type!(
    /// Identifies a chat message; also the cursor for history and sync.
    MessageId, "message"
);
id_type!(
    /// Identifies a group.
    GroupId, "group"
);
id_type!(
    /// Identifies a report.
    ReportId, "report"
);
id_type!(
    /// Identifies an entry of the moderation audit log.
    AuditId, "audit entry"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_hex_and_json() {
        let id = UserId::new();
        assert_eq!(UserId::parse("userId", &id.to_hex()).ok(), Some(id));
        let json = serde_json::to_string(&id).ok();
        assert_eq!(json, Some(format!("\"{}\"", id.to_hex())));
    }

    #[test]
    fn ids_are_written_as_objectid_writes_them() {
        let oid = ObjectId::parse_str("6650c0ffee0000000000abcd").unwrap_or_default();
        let id = UserId::from(oid);
        assert_eq!(id.to_hex(), "6650c0ffee0000000000abcd");
        assert_eq!(id.to_string(), oid.to_hex());
        assert_eq!(format!("{id:?}"), "UserId(6650c0ffee0000000000abcd)");
        assert_eq!(serde_json::to_string(&id).ok().as_deref(), Some("\"6650c0ffee0000000000abcd\""));
    }

    #[test]
    fn malformed_ids_are_validation_errors_naming_the_field() {
        for bad in ["", "xyz", "0123456789abcdef0123456", "0123456789abcdef012345678", "zz23456789abcdef01234567"] {
            let err = UserId::parse("toUserId", bad).err();
            assert_eq!(err.map(|e| e.field), Some("toUserId"), "{bad}");
        }
    }
}
