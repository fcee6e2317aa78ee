//! Signing outgoing requests as a local actor, with draft-cavage HTTP
//! Signatures the way Mastodon sends them.

use stoa_activitypub::signature::{sign_request, PrivateKey};

/// Signs every request (and every redirect hop) as one actor.
#[derive(Clone)]
pub struct ActorSigner {
    key_id: String,
    key: PrivateKey,
}

impl ActorSigner {
    pub fn new(key_id: impl Into<String>, key: PrivateKey) -> ActorSigner {
        ActorSigner {
            key_id: key_id.into(),
            key,
        }
    }
}

impl crate::Signer for ActorSigner {
    fn sign(
        &self,
        method: &str,
        url: &url::Url,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Vec<(String, String)>, String> {
        let signed = sign_request(
            method,
            url,
            content_type,
            body,
            &self.key_id,
            &self.key,
            chrono::Utc::now(),
        )
        .map_err(|e| e.to_string())?;
        let mut headers = vec![
            ("Date".to_owned(), signed.date),
            ("Signature".to_owned(), signed.signature),
        ];
        if let Some(digest) = signed.digest {
            headers.push(("Digest".to_owned(), digest));
        }
        Ok(headers)
    }
}
