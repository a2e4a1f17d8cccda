"""What shows and speaks in the hall: hall screens, LED boards, Vietnamese voice (see the issues)."""
