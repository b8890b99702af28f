//! One Status shape everywhere an app meets a status (notifications, home, context,
//! streaming), remote statuses from followed accounts by their `s.<n>` ids, and boosts
//! from followed accounts in the home timeline (issue 17).
