import ArgumentParser
import Foundation
import NIOCore
import TansiqAPI

/// Why a command failed, and its exit status.
enum CLIError: Error, CustomStringConvertible {
    /// Something went wrong (exit 1).
    case failed(String)
    /// The controller said no, or could not be reached (exit 1; a 400 is invalid input: exit 2).
    case api(ClientError)

    var description: String {
        switch self {
        case .failed(let message): message
        case .api(let error): error.description
        }
    }

    var exitCode: Int32 {
        if case .api(.refused(let failure)) = self, failure.status == 400 { return 2 }
        return 1
    }

    /// The API failure, when the controller answered.
    var failure: APIFailure? {
        if case .api(.refused(let failure)) = self { return failure }
        return nil
    }
}

extension Connection {
    /// The typed client of this connection.
    func client(readTimeout: TimeAmount = .seconds(75)) throws -> TansiqClient {
        do {
            return try TansiqClient(
                servers: servers, trust: ca.map { .caFile($0) } ?? .system, token: token, readTimeout: readTimeout)
        } catch let error as ClientError {
            throw CLIError.failed("\(error) (--ca \(ca ?? "-"))")
        }
    }
}

extension Output {
    /// Runs a command body, printing a failure on stderr and exiting with its status.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as CLIError {
            Output.error("error: \(error)")
            throw ExitCode(error.exitCode)
        } catch let error as ClientError {
            let cli = CLIError.api(error)
            Output.error("error: \(cli)")
            throw ExitCode(cli.exitCode)
        }
    }
}

extension TansiqClient {
    /// A call whose 404 is an answer (nil), not a failure.
    func unlessNotFound<T>(_ body: () async throws -> T) async throws -> T? {
        do {
            return try await body()
        } catch ClientError.refused(let failure) where failure.status == 404 {
            return nil
        }
    }
}
