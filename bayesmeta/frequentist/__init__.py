"""frequentist"""
