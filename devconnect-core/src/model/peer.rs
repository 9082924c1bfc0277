//! Who is calling, for the limits counted per client address.

/// Where a signup or login attempt comes from, for the limits counted per client
/// address. A network frontend always knows its peer; only a program embedding the
/// service (the Python bindings, tools) calls as [`Peer::Local`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Peer {
    /// A network client at this address (an IPv6 client counts by its /64 network).
    Remote(std::net::IpAddr),
    /// The embedding program itself: not limited per address.
    Local,
}
