"""What a render keeps beside the storyboard in `.storyboard/`: state, clips, the lock."""
