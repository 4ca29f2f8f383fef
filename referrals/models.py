"""referrals models: built in the referrals issue."""
