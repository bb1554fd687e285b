/// The wire types travel with the client: whoever imports the client has them too.
@_exported import TansiqWire
