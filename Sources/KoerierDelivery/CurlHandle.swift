import CCurl
import Foundation

/// One libcurl easy handle for one transfer, with the options every Koerier transfer
/// shares: verification on, TLS 1.2 (ECDHE, AEAD) or 1.3, timeouts, no signals (threads), no redirects.
final class CurlHandle {
    let handle: UnsafeMutableRawPointer
    private var lists: [UnsafeMutablePointer<curl_slist>] = []
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    static let tls12Ciphers = [
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    ].joined(separator: ":")

    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    init(url: String, protocols: String, anchors: URL, connectTimeout: Int, totalTimeout: Int) throws {
        guard CurlHandle.globalInit, let handle = curl_easy_init() else { throw TransportError.setup("libcurl cannot start") }
        self.handle = handle
        try set(CURLOPT_ERRORBUFFER, pointer: &errorBuffer)
        try set(CURLOPT_URL, url)
        try set(CURLOPT_PROTOCOLS_STR, protocols)
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_FOLLOWLOCATION, 0)
        // Straight to the recipient: no proxy picked up from the environment.
        try set(CURLOPT_PROXY, "")
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        try set(CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2))
        // NCSC "good": TLS 1.2 only with ECDHE and AEAD; TLS 1.3's own suites are all AEAD.
        try set(CURLOPT_SSL_CIPHER_LIST, CurlHandle.tls12Ciphers)
        // Only the configured anchors: not the system store.
        try set(CURLOPT_CAINFO, anchors.path)
        try set(CURLOPT_CAPATH, pointer: nil)
        try set(CURLOPT_CONNECTTIMEOUT, connectTimeout)
        try set(CURLOPT_TIMEOUT, totalTimeout)
        if ProcessInfo.processInfo.environment["KOERIER_DEBUG_CURL"] != nil { try set(CURLOPT_VERBOSE, 1) }
    }

    deinit {
        curl_easy_cleanup(handle)
        for list in lists { curl_slist_free_all(list) }
    }

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(koerier_curl_set_long(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: String) throws {
        // libcurl copies string options (since 7.17), so the temporary C string may go.
        try check(value.withCString { koerier_curl_set_string(handle, option, $0) }, option)
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws {
        try check(koerier_curl_set_pointer(handle, option, pointer), option)
    }

    func set(_ option: CURLoption, list: [String]) throws {
        var head: UnsafeMutablePointer<curl_slist>?
        for item in list { head = curl_slist_append(head, item) }
        guard let head else { throw TransportError.setup("libcurl cannot build a list") }
        lists.append(head)
        try check(koerier_curl_set_pointer(handle, option, UnsafeMutableRawPointer(head)), option)
    }

    func set(_ option: CURLoption, size: Int) throws {
        try check(koerier_curl_set_off(handle, option, curl_off_t(size)), option)
    }

    func set(_ option: CURLoption, callback: koerier_curl_data_callback) throws {
        try check(koerier_curl_set_callback(handle, option, callback), option)
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code == CURLE_OK else { throw TransportError.setup("libcurl refused option \(option.rawValue): \(describe(code))") }
    }

    /// Runs the transfer; the result code and libcurl's own message.
    func perform() -> (code: CURLcode, message: String) {
        let code = curl_easy_perform(handle)
        let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (code, detail.isEmpty ? describe(code) : detail)
    }

    var responseCode: Int {
        var code = 0
        _ = koerier_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// The last answer's Retry-After in seconds from now (delay-seconds or an HTTP date).
    var retryAfter: TimeInterval? { header("Retry-After").flatMap { RetryAfter.seconds($0, now: Date()) } }

    /// A header of the last answer (the last request's final response), or nil.
    func header(_ name: String) -> String? {
        var header: UnsafeMutablePointer<curl_header>?
        guard curl_easy_header(handle, name, 0, UInt32(CURLH_HEADER), -1, &header) == CURLHE_OK,
            let value = header?.pointee.value
        else { return nil }
        return String(cString: value)
    }

    func describe(_ code: CURLcode) -> String { String(cString: curl_easy_strerror(code)) }
}

/// HTTP's Retry-After (RFC 9110 §10.2.3): delay-seconds or an IMF-fixdate.
enum RetryAfter {
    static func seconds(_ text: String, now: Date) -> TimeInterval? {
        let value = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(value), seconds >= 0 { return TimeInterval(seconds) }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return format.date(from: value).map { max(0, $0.timeIntervalSince(now)) }
    }
}

public enum TransportError: Error, CustomStringConvertible {
    case setup(String)
    public var description: String {
        switch self {
        case .setup(let text): return text
        }
    }
}

/// Growing response body with a cap (a hostile server cannot fill memory).
final class ResponseBuffer {
    var data = Data()
    let limit: Int
    init(limit: Int) { self.limit = limit }

    static let write: koerier_curl_data_callback = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let sink = Unmanaged<ResponseBuffer>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        guard sink.data.count + length <= sink.limit else { return 0 }  // aborts the transfer
        sink.data.append(UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: length)
        return length
    }
}

/// Upload source for SMTP (libcurl reads the message through a callback).
final class UploadSource {
    let data: Data
    var offset = 0
    init(_ data: Data) { self.data = data }

    static let read: koerier_curl_data_callback = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let source = Unmanaged<UploadSource>.fromOpaque(context).takeUnretainedValue()
        let length = min(size * count, source.data.count - source.offset)
        guard length > 0 else { return 0 }
        source.data.withUnsafeBytes { bytes in
            UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + source.offset, byteCount: length)
        }
        source.offset += length
        return length
    }
}
