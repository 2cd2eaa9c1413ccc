"""The rank history port: each user's points (when its total changed, the total, its rank
right after) on each stored board, newest first, a bounded number per user."""
