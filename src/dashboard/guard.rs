//! Who may use the dashboard: requests must name this server in `Host` (a page on
//! another site that rebinds its DNS name to 127.0.0.1 names its own), WebSockets must
//! come from this server's pages (`Origin`), and every request must carry this start's
//! token, in the URL the CLI printed (then it is kept in a cookie) or the cookie.

use std::net::SocketAddr;

/// The cookie that keeps the token after the first load.
pub const COOKIE: &str = "aiswitch_dashboard";

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `Host` names another server.
    Host,
    /// A WebSocket opened by another site's page (or by no page).
    Origin,
    /// No token, or the wrong one.
    Token,
}

impl Refusal {
    /// One line for the refused client.
    pub fn message(self) -> &'static str {
        match self {
            Self::Host => "aiswitch dashboard: this server answers only to the address it printed",
            Self::Origin => "aiswitch dashboard: only the dashboard's own pages may connect",
            Self::Token => {
                "aiswitch dashboard: open the URL `aiswitch dashboard` printed; it carries this start's token"
            }
        }
    }
}

/// How an admitted request proved itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The token in the URL: set the cookie and drop it from the address bar.
    Query,
    /// The cookie (or no token is required).
    Kept,
}

/// What is checked, fixed at start.
#[derive(Debug, Clone)]
pub struct Guard {
    token: Option<String>,
    names: Names,
}

/// The names the server answers to in `Host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Names {
    /// These `host:port` values only (a loopback address, or the one address given).
    Exactly(Vec<String>),
    /// Listening on every address (`--listen 0.0.0.0`): any IP address, or one of
    /// these names (the machine's own), with this port. Any other name is refused: a
    /// DNS name an attacker controls can be pointed at this machine (rebinding), an
    /// IP address cannot.
    Machine {
        /// The port.
        port: u16,
        /// The machine's names (`localhost`, its host name, `NAME.local`).
        names: Vec<String>,
    },
}

impl Names {
    /// The names of a server listening on `addr`.
    pub fn of(addr: SocketAddr) -> Self {
        if addr.ip().is_unspecified() {
            Self::Machine {
                port: addr.port(),
                names: machine_names(),
            }
        } else if addr.ip().is_loopback() {
            Self::Exactly(vec![
                format!("127.0.0.1:{}", addr.port()),
                format!("localhost:{}", addr.port()),
                format!("[::1]:{}", addr.port()),
            ])
        } else {
            Self::Exactly(vec![addr.to_string()])
        }
    }

    /// Whether `host` (a `Host` header: `name:port`, or `name` for port 80) names
    /// this server.
    pub fn admit(&self, host: &str) -> bool {
        let with_port;
        let host = if host.ends_with(']') || !host.contains(':') {
            with_port = format!("{host}:80");
            &with_port
        } else {
            host
        };
        match self {
            Self::Exactly(hosts) => hosts.iter().any(|h| h == host),
            Self::Machine { port, names } => {
                let Some((name, p)) = host.rsplit_once(':') else {
                    return false;
                };
                let ip = name.trim_start_matches('[').trim_end_matches(']');
                p.parse() == Ok(*port)
                    && (ip.parse::<std::net::IpAddr>().is_ok()
                        || names.iter().any(|n| n.eq_ignore_ascii_case(name)))
            }
        }
    }
}

/// What a request says about itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// The `Host` header.
    pub host: Option<&'a str>,
    /// The `Origin` header.
    pub origin: Option<&'a str>,
    /// The `token` query parameter.
    pub query_token: Option<&'a str>,
    /// The `Cookie` header.
    pub cookies: Option<&'a str>,
}

impl Guard {
    /// A guard for a server reachable as `names`, with `token` (`None`: no token).
    pub fn new(token: Option<String>, names: Names) -> Self {
        Self { token, names }
    }

    /// The token, for the URL.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Checks a request; `websocket` also requires an `Origin`. A request that names
    /// an `Origin` must come from a page of the very address it was sent to (our
    /// pages connect to the address they were loaded from).
    pub fn admit(&self, c: Credentials<'_>, websocket: bool) -> Result<Admission, Refusal> {
        let Some(host) = c.host.filter(|h| self.names.admit(h)) else {
            return Err(Refusal::Host);
        };
        match c.origin {
            Some(origin) if origin.strip_prefix("http://") != Some(host) => {
                return Err(Refusal::Origin);
            }
            None if websocket => return Err(Refusal::Origin),
            _ => {}
        }
        let Some(token) = &self.token else {
            return Ok(Admission::Kept);
        };
        if c.query_token.is_some_and(|t| same(t, token)) {
            return Ok(Admission::Query);
        }
        let cookie = c
            .cookies
            .into_iter()
            .flat_map(|h| h.split(';'))
            .find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                (name == COOKIE).then_some(value)
            });
        if cookie.is_some_and(|t| same(t, token)) {
            Ok(Admission::Kept)
        } else {
            Err(Refusal::Token)
        }
    }
}

/// The names this machine answers to: `localhost`, its host name and `NAME.local`.
fn machine_names() -> Vec<String> {
    let mut names = vec!["localhost".to_owned()];
    if let Ok(name) = nix::unistd::gethostname()
        && let Some(name) = name.to_str().filter(|n| !n.is_empty())
    {
        names.push(name.to_owned());
        names.push(format!("{name}.local"));
    }
    names
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new(
            Some("s3cret".into()),
            Names::Exactly(vec!["127.0.0.1:4000".into(), "localhost:4000".into()]),
        )
    }

    fn request<'a>() -> Credentials<'a> {
        Credentials {
            host: Some("127.0.0.1:4000"),
            ..Credentials::default()
        }
    }

    #[test]
    fn the_token_admits_once_by_url_then_by_cookie() {
        let g = guard();
        let by_url = Credentials {
            query_token: Some("s3cret"),
            ..request()
        };
        assert_eq!(g.admit(by_url, false), Ok(Admission::Query));
        let by_cookie = Credentials {
            cookies: Some("a=b; aiswitch_dashboard=s3cret"),
            ..request()
        };
        assert_eq!(g.admit(by_cookie, false), Ok(Admission::Kept));
        assert_eq!(g.admit(request(), false), Err(Refusal::Token));
        let wrong = Credentials {
            query_token: Some("s3cres"),
            ..request()
        };
        assert_eq!(g.admit(wrong, false), Err(Refusal::Token));
        let open = Guard::new(None, Names::Exactly(vec!["127.0.0.1:4000".into()]));
        assert_eq!(open.admit(request(), false), Ok(Admission::Kept));
    }

    #[test]
    fn other_hosts_and_other_sites_are_refused() {
        let g = guard();
        let rebound = Credentials {
            host: Some("evil.example:4000"),
            query_token: Some("s3cret"),
            ..request()
        };
        assert_eq!(g.admit(rebound, false), Err(Refusal::Host));
        let no_host = Credentials {
            host: None,
            ..request()
        };
        assert_eq!(g.admit(no_host, false), Err(Refusal::Host));
        let cookie = Some("aiswitch_dashboard=s3cret");
        let foreign = Credentials {
            origin: Some("https://evil.example"),
            cookies: cookie,
            ..request()
        };
        assert_eq!(g.admit(foreign, true), Err(Refusal::Origin));
        let no_origin = Credentials {
            cookies: cookie,
            ..request()
        };
        assert_eq!(g.admit(no_origin, true), Err(Refusal::Origin));
        let other_name = Credentials {
            origin: Some("http://localhost:4000"),
            cookies: cookie,
            ..request()
        };
        assert_eq!(g.admit(other_name, true), Err(Refusal::Origin));
        let ours = Credentials {
            origin: Some("http://127.0.0.1:4000"),
            cookies: cookie,
            ..request()
        };
        assert_eq!(g.admit(ours, true), Ok(Admission::Kept));
    }

    #[test]
    fn on_every_address_ip_addresses_and_the_machines_names_get_in_other_names_do_not() {
        let g = Guard::new(
            None,
            Names::Machine {
                port: 4000,
                names: vec!["localhost".into(), "devbox".into(), "devbox.local".into()],
            },
        );
        let from = |host: &'static str, origin: Option<&'static str>| Credentials {
            host: Some(host),
            origin,
            ..Credentials::default()
        };
        for host in [
            "192.168.1.20:4000",
            "[fe80::1]:4000",
            "DevBox:4000",
            "localhost:4000",
        ] {
            assert_eq!(
                g.admit(from(host, None), false),
                Ok(Admission::Kept),
                "{host}"
            );
        }
        for host in [
            "attacker.example:4000",
            "192.168.1.20:4001",
            "192.168.1.20",
            "devbox.attacker.example:4000",
        ] {
            assert_eq!(
                g.admit(from(host, None), false),
                Err(Refusal::Host),
                "{host}"
            );
        }
        let on_80 = Names::of("127.0.0.1:80".parse().unwrap());
        assert!(on_80.admit("127.0.0.1") && on_80.admit("localhost:80"));
        assert!(!on_80.admit("attacker.example"));
        let lan = "192.168.1.20:4000";
        let ws = |origin| g.admit(from(lan, origin), true);
        assert_eq!(ws(Some("http://192.168.1.20:4000")), Ok(Admission::Kept));
        assert_eq!(ws(Some("http://attacker.example")), Err(Refusal::Origin));
        assert_eq!(ws(Some("http://10.0.0.9:4000")), Err(Refusal::Origin));
        assert_eq!(ws(None), Err(Refusal::Origin));
    }
}
