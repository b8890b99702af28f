//! Emoji reactions (Misskey's `_misskey_reaction` likes, Akkoma's and Pleroma's
//! `EmojiReact`): counted and shown with the likes.
