import Testing

@testable import TansiqAgent
