//! The HTTPS client the core's outbound calls share (Cloudinary uploads, Web Push).

use std::sync::Arc;
use std::time::Duration;

use crate::{Error, Result};

/// An HTTP client: rustls with the ring provider given explicitly (no process-wide
/// default is installed or needed), the platform's trust store, `timeout` on
/// connecting and on each whole call, HTTP/1.1, and no redirects (a redirect would
/// resend a signed request somewhere its signer did not choose).
#[cfg(feature = "cloudinary")]
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client> {
    builder(timeout)?.build().map_err(Error::internal)
}

/// [`client`]'s builder, for a client that needs more (push's resolver).
pub(crate) fn builder(timeout: Duration) -> Result<reqwest::ClientBuilder> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(rustls_platform_verifier::BuilderVerifierExt::with_platform_verifier)
        .map_err(Error::internal)?
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("devconnect/", env!("CARGO_PKG_VERSION"))))
}
