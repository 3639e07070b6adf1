//! What every command needs from its surroundings: where the files are, the HTTP client, and
//! where progress goes (the CLI's spinner or heartbeat; core never prints).

use crate::http::{Http, Progress};
use crate::store::Paths;

pub struct Context<'a> {
    pub paths: Paths,
    pub http: Http,
    pub progress: &'a dyn Progress,
}
