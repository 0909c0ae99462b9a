//! The ABR lab: the real engine driven through simulated links in virtual time.
