import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// HTTP/2 when the client offers it through ALPN, HTTP/1.1 otherwise — and a connection that
/// has not finished its TLS handshake within `deadline` (nothing sent, or a hello dribbled) is
/// closed. Once negotiated, each protocol's own idle timeout takes over: HTTP/1.1's per
/// connection, HTTP/2's for a connection without open streams and for each stream.
struct HandshakeDeadlineChannel: ServerChildChannel {
    typealias Value = HTTP2UpgradeChannel.Value

    let inner: HTTP2UpgradeChannel
    let deadline: TimeAmount

    /// The builder of `Application(server:)`.
    static func builder(tls: TLSConfiguration, idleTimeout: TimeAmount) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            HandshakeDeadlineChannel(
                inner: try HTTP2UpgradeChannel(
                    tlsConfiguration: tls,
                    configuration: .init(
                        idleTimeout: .nanoseconds(idleTimeout.nanoseconds),
                        streamConfiguration: .init(idleTimeout: idleTimeout)),
                    responder: responder),
                deadline: idleTimeout)
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            // Between the TLS handler and the protocol negotiation: it sees the handshake end.
            let tls = try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
            try channel.pipeline.syncOperations.addHandler(OwnedReads(), position: .after(tls))
            try channel.pipeline.syncOperations.addHandler(
                HandshakeWatch(deadline: deadline), position: .after(tls))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Closes its connection unless the TLS handshake completes within `deadline`, then leaves.
final class HandshakeWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    let deadline: TimeAmount
    private var timer: Scheduled<Void>?

    init(deadline: TimeAmount) { self.deadline = deadline }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: deadline) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            timer?.cancel()
            timer = nil
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Hands on what the TLS handler decrypted as a buffer of its own, sized to it. The TLS handler
/// decrypts into one buffer of at least a TLS record (16 KiB) that it reuses from read to read —
/// unless the read it handed on is still held downstream, and HTTP/2's frame parser holds the
/// last one until the next arrives: then every read allocates another 16 KiB, and every idle
/// HTTP/2 connection keeps two. Copied here (a status is a few KiB), the TLS handler's buffer is
/// free again when the read returns, and what the parser keeps is the size of what was read.
final class OwnedReads: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let read = unwrapInboundIn(data)
        var owned = context.channel.allocator.buffer(capacity: read.readableBytes)
        owned.writeImmutableBuffer(read)
        context.fireChannelRead(wrapInboundOut(owned))
    }
}
