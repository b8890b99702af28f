//! Which due deliveries a worker takes: round-robin over hosts (each host's oldest
//! first), within each host's room: its in-flight limit less what is in flight, or a
//! single probe for a host whose circuit is open and whose cool-down has passed.

use std::collections::HashMap;

/// How many more deliveries each host may have in flight now.
pub struct Rooms<'a> {
    pub per_host: usize,
    pub in_flight: &'a HashMap<String, usize>,
    /// Hosts whose circuit is open, and when a probe may go.
    pub open: &'a HashMap<String, Option<i64>>,
    pub now: i64,
}

impl Rooms<'_> {
    pub fn of(&self, host: &str) -> usize {
        let cap = match self.open.get(host) {
            Some(Some(until)) if *until > self.now => 0,
            Some(_) => 1,
            None => self.per_host,
        };
        cap.saturating_sub(self.in_flight.get(host).copied().unwrap_or(0))
    }

    /// Hosts with no room, sorted: left out of the candidates.
    pub fn full(&self) -> Vec<&str> {
        let mut full: Vec<&str> = self
            .in_flight
            .keys()
            .chain(self.open.keys())
            .map(String::as_str)
            .filter(|h| self.of(h) == 0)
            .collect();
        full.sort_unstable();
        full.dedup();
        full
    }
}

/// Picks up to `limit` of `candidates` (id, host; in queue order): first each host's
/// oldest, then each host's second, and so on, never past a host's room.
pub fn pick(candidates: &[(i64, String)], rooms: &Rooms<'_>, limit: usize) -> Vec<i64> {
    // host -> (taken, room)
    let mut hosts: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut ranked: Vec<(usize, usize, i64)> = Vec::with_capacity(candidates.len());
    for (position, (id, host)) in candidates.iter().enumerate() {
        let (taken, room) = hosts
            .entry(host.as_str())
            .or_insert_with(|| (0, rooms.of(host)));
        if *taken < *room {
            ranked.push((*taken, position, *id));
            *taken += 1;
        }
    }
    ranked.sort_unstable();
    ranked
        .into_iter()
        .take(limit)
        .map(|(_, _, id)| id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(hosts: &[&str]) -> Vec<(i64, String)> {
        hosts
            .iter()
            .enumerate()
            .map(|(i, h)| (i as i64, (*h).to_owned()))
            .collect()
    }

    #[test]
    fn round_robin_over_hosts_within_their_room() {
        let in_flight = HashMap::from([("b".to_owned(), 1)]);
        let open = HashMap::new();
        let rooms = Rooms {
            per_host: 2,
            in_flight: &in_flight,
            open: &open,
            now: 0,
        };
        // a a a b b c: a may take 2, b 1 (one in flight), c 2.
        let c = candidates(&["a", "a", "a", "b", "b", "c"]);
        assert_eq!(pick(&c, &rooms, 10), vec![0, 3, 5, 1]);
        assert_eq!(pick(&c, &rooms, 2), vec![0, 3]);
        assert_eq!(rooms.full(), Vec::<&str>::new());
    }

    #[test]
    fn open_circuits_hold_or_allow_one_probe() {
        let in_flight = HashMap::from([("probing".to_owned(), 1), ("busy".to_owned(), 2)]);
        let open = HashMap::from([
            ("cooling".to_owned(), Some(100)),
            ("due".to_owned(), Some(50)),
            ("probing".to_owned(), Some(50)),
        ]);
        let rooms = Rooms {
            per_host: 2,
            in_flight: &in_flight,
            open: &open,
            now: 60,
        };
        let c = candidates(&["cooling", "due", "due", "probing", "ok"]);
        assert_eq!(pick(&c, &rooms, 10), vec![1, 4]);
        assert_eq!(rooms.full(), vec!["busy", "cooling", "probing"]);
    }
}
