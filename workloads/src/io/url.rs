//! HTTP URLs as the IO workloads take them: `http://[user:pw@]host[:port]
//! [/path][?query][#fragment]`, parsed once, so the `--target` check and
//! both clients accept exactly the same forms. The fragment is dropped (it
//! is never sent), the port defaults to 80, and user information becomes
//! a Basic `Authorization` header, never part of what is shown or saved
//! ([`HttpUrl::redacted`], [`redact`]). Query strings often carry tokens
//! too (`?token=abc`), so what is shown or saved keeps their keys and
//! drops their values.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// A parsed `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// The host name or address (IPv6 addresses without brackets).
    pub host: String,
    /// The port, 80 when the URL names none.
    pub port: u16,
    /// `/path?query`, `/` when the URL has no path.
    pub path_and_query: String,
    /// `user:password` before the `@`, if any.
    pub userinfo: Option<String>,
}

impl HttpUrl {
    /// Parses `url`; the error names what is wrong with it.
    pub fn parse(url: &str) -> Result<HttpUrl, String> {
        let rest = url.trim().strip_prefix("http://").ok_or_else(|| {
            format!(
                "'{}' is not an http:// URL (https is not supported)",
                redact(url)
            )
        })?;
        let rest = rest.split('#').next().unwrap_or("");
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo.to_string()), host_port),
            None => (None, authority),
        };
        let shown = redact(url);
        let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| format!("'{shown}' has an unclosed [ in its host"))?;
            (host, after.strip_prefix(':'))
        } else {
            match host_port.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            }
        };
        if host.is_empty() {
            return Err(format!("'{shown}' has no host"));
        }
        let port = match port {
            None | Some("") => 80,
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("'{shown}' has a bad port '{port}' (1 to 65535)"))?,
        };
        let path_and_query = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        Ok(HttpUrl {
            host: host.to_string(),
            port,
            path_and_query,
            userinfo,
        })
    }

    /// `host:port`, for connecting and the `Host` header.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `http://host:port`, with no user information.
    pub fn base(&self) -> String {
        format!("http://{}", self.authority())
    }

    /// The whole URL without user information and with the query's
    /// values dropped: what may be shown and saved.
    pub fn redacted(&self) -> String {
        format!("{}{}", self.base(), redact_query(&self.path_and_query))
    }

    /// The `Authorization` header the user information asks for.
    pub fn authorization(&self) -> Option<String> {
        self.userinfo
            .as_ref()
            .map(|userinfo| format!("Basic {}", STANDARD.encode(userinfo)))
    }
}

/// What a dropped query value is shown as.
pub const REDACTED: &str = "REDACTED";

/// `text` with the user information of any `scheme://user:pw@` in it
/// removed and the values of its query string dropped (`?token=abc` reads
/// `?token=REDACTED`), for anything shown or saved (host.json, records,
/// command lines, messages).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let (before, after) = rest.split_at(scheme_end + 3);
        out.push_str(before);
        let authority_end = after.find(['/', '?', '#', ' ']).unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        let after = &after[authority_end..];
        let url_end = after.find(char::is_whitespace).unwrap_or(after.len());
        out.push_str(&redact_query(&after[..url_end]));
        rest = &after[url_end..];
    }
    out.push_str(rest);
    out
}

/// `/path?k=v&flag#frag` with every query value dropped:
/// `/path?k=REDACTED&flag#frag` (a bare value reads `REDACTED`).
fn redact_query(path: &str) -> String {
    let Some((path, query)) = path.split_once('?') else {
        return path.to_string();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((query, fragment)) => (query, Some(fragment)),
        None => (query, None),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) => format!("{key}={REDACTED}"),
            None if pair.is_empty() => String::new(),
            None => REDACTED.to_string(),
        })
        .collect();
    let mut out = format!("{path}?{}", pairs.join("&"));
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_the_check_accepts_parses_the_same_way() {
        let url = HttpUrl::parse("http://user:pw@example.org/a/b?c=1#frag").unwrap();
        assert_eq!(url.authority(), "example.org:80");
        assert_eq!(url.path_and_query, "/a/b?c=1");
        assert_eq!(url.redacted(), "http://example.org:80/a/b?c=REDACTED");
        assert_eq!(url.authorization().as_deref(), Some("Basic dXNlcjpwdw=="));
        let url = HttpUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!((url.port, url.path_and_query.as_str()), (8080, "/"));
        let url = HttpUrl::parse("http://[::1]:9000?x=1").unwrap();
        assert_eq!(
            (url.authority().as_str(), url.path_and_query.as_str()),
            ("[::1]:9000", "/?x=1")
        );
        for bad in [
            "https://x/",
            "http:///x",
            "http://x:0/",
            "http://x:99999/",
            "ftp://x",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
        let err = HttpUrl::parse("http://u:secret@x:bad/").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn redaction_removes_every_userinfo() {
        assert_eq!(
            redact("run --target http://u:p@h:1/x and http://a@b"),
            "run --target http://h:1/x and http://b"
        );
        assert_eq!(redact("no url here"), "no url here");
        assert_eq!(
            redact("--target=http://h/x?token=abc123&user=me&flag --json"),
            "--target=http://h/x?token=REDACTED&user=REDACTED&REDACTED --json"
        );
        let url = HttpUrl::parse("http://h:1/?token=abc123").unwrap();
        assert_eq!(url.redacted(), "http://h:1/?token=REDACTED");
        // What is sent keeps the token.
        assert_eq!(url.path_and_query, "/?token=abc123");
    }
}
