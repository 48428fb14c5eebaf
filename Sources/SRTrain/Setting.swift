// One training setting as data: its key (as in RUN/config.yaml, nested keys dotted), its type and
// valid range, its help, what a resume does when it changed, and how to read and write it in a
// TrainConfig. The table of them (Settings.swift) drives the YAML file, `--set key=value`, the
// printed and saved config and the resume check; this file is the machinery.

import Foundation
import Yams

public struct Setting: Sendable {
    /// What a resume does when the setting differs from the checkpoint's.
    public enum OnResume: Sendable {
        /// It fixes the networks' shapes (or their wiring): the resume is refused.
        case mustMatch
        /// The same, for the discriminator's settings: only in the gan phase.
        case mustMatchInGANPhase
        /// The run goes on, not exactly as it would have: a note says so.
        case noted
        /// Nothing to say (paths, logging, intervals).
        case free
    }

    public let key: String
    /// The values it takes, for help and errors: "int >= 1", "float > 0", "mse | l1", ...
    public let type: String
    public let help: String
    public let onResume: OnResume

    /// Why a value was refused: not of the setting's type, or outside its range.
    enum Problem: Error {
        case wrongType(String)
        case outOfRange(String)
    }
    /// The value as a YAML node; nil when unset (an optional setting).
    public let read: @Sendable (TrainConfig) -> Node?
    /// Sets the value from a YAML node; returns what is wrong with the node instead.
    let write: @Sendable (inout TrainConfig, Node) -> Problem?
    /// What is wrong with the config's current value (out of range), or nil.
    let check: @Sendable (TrainConfig) -> String?
}

/// A type a setting can have: read from a YAML node (the command line's `--set` values are parsed
/// as YAML too), written as one.
protocol SettingValue: Sendable, Equatable {
    static func from(_ node: Node) -> Self?
    var node: Node { get }
}

/// A YAML integer scalar as Yams reads it (decimal, 0x, 0o, 0b, underscores), except YAML 1.1's
/// base-60 form ("1:30"): Yams multiplies its digits out without an overflow check, so a long
/// one ("1888...::88") stopped the program (found by fuzzing). No setting is written that way.
private func integer<T: FixedWidthInteger & ScalarConstructible>(_ node: Node, as type: T.Type) -> T? {
    guard let scalar = node.scalar, !scalar.string.contains(":") else { return nil }
    return T.construct(from: scalar)
}

extension Int: SettingValue {
    static func from(_ node: Node) -> Int? { integer(node, as: Int.self) }
    var node: Node { box() }
}

extension UInt64: SettingValue {
    static func from(_ node: Node) -> UInt64? { integer(node, as: UInt64.self) }
    var node: Node { box() }
}

extension Double: SettingValue {
    /// YAML's floats and ints, and also "nan" and "inf" as Swift spells them (to refuse them by name).
    static func from(_ node: Node) -> Double? {
        guard let scalar = node.scalar, scalar.style == .any || scalar.style == .plain else { return nil }
        return Double(scalar.string) ?? Double.construct(from: scalar)
    }
    var node: Node { box() }
}

extension Bool: SettingValue {
    static func from(_ node: Node) -> Bool? { node.scalar.flatMap(Bool.construct) }
    var node: Node { box() }
}

extension String: SettingValue {
    static func from(_ node: Node) -> String? { node.scalar.map(\.string) }
    var node: Node { box() }
}

extension Array: SettingValue where Element == Int {
    static func from(_ node: Node) -> [Int]? {
        guard let sequence = node.sequence else { return nil }
        let values = sequence.compactMap(Int.from)
        return values.count == sequence.count ? values : nil
    }
    var node: Node { Node(map(\.node)) }
}

/// An enum of named choices (`gan_loss: ragan`).
protocol ChoiceSetting: SettingValue, RawRepresentable, CaseIterable where RawValue == String {}

extension ChoiceSetting {
    static func from(_ node: Node) -> Self? { node.scalar.flatMap { Self(rawValue: $0.string) } }
    var node: Node { rawValue.box() }
    static var choices: String { allCases.map(\.rawValue).joined(separator: " | ") }
}

extension Node {
    /// A YAML null (`~`, `null`, or nothing after the colon).
    var isNull: Bool { scalar.map { NSNull.construct(from: $0) != nil } ?? false }
}

extension Setting {
    /// A setting of type T at `path`; `valid` (with its description, e.g. ">= 1") limits its values.
    static func value<T: SettingValue>(_ key: String, _ path: WritableKeyPath<TrainConfig, T> & Sendable, type: String,
                                       valid: (@Sendable (T) -> Bool)? = nil, range: String = "",
                                       onResume: OnResume = .free, help: String) -> Setting {
        let describe = range.isEmpty ? type : "\(type) \(range)"
        let check: @Sendable (TrainConfig) -> String? = { config in
            let value = config[keyPath: path]
            if let number = value as? Double, !number.isFinite { return "\(key) \(number) is not a finite number\(range.isEmpty ? "" : " " + range)" }
            if let valid, !valid(value) { return "\(key) \(value) is outside the valid range (\(describe))" }
            return nil
        }
        return Setting(key: key, type: describe, help: help, onResume: onResume,
                       read: { $0[keyPath: path].node },
                       write: { config, node in
                           guard let value = T.from(node) else { return .wrongType("\(key) wants \(describe), not '\(Setting.text(node))'") }
                           config[keyPath: path] = value
                           return check(config).map(Problem.outOfRange)
                       },
                       check: check)
    }

    /// An optional setting (nil: unset, written as nothing; `null` in YAML unsets it).
    static func optional<T: SettingValue>(_ key: String, _ path: WritableKeyPath<TrainConfig, T?> & Sendable, type: String,
                                          valid: (@Sendable (T) -> Bool)? = nil, range: String = "",
                                          onResume: OnResume = .free, help: String) -> Setting {
        let describe = (range.isEmpty ? type : "\(type) \(range)") + " or null"
        let check: @Sendable (TrainConfig) -> String? = { config in
            guard let value = config[keyPath: path] else { return nil }
            if let number = value as? Double, !number.isFinite { return "\(key) \(number) is not a finite number\(range.isEmpty ? "" : " " + range)" }
            if let valid, !valid(value) { return "\(key) \(value) is outside the valid range (\(describe))" }
            return nil
        }
        return Setting(key: key, type: describe, help: help, onResume: onResume,
                       read: { $0[keyPath: path]?.node },
                       write: { config, node in
                           if node.isNull { config[keyPath: path] = nil; return nil }
                           guard let value = T.from(node) else { return .wrongType("\(key) wants \(describe), not '\(Setting.text(node))'") }
                           config[keyPath: path] = value
                           return check(config).map(Problem.outOfRange)
                       },
                       check: check)
    }

    static func choice<T: ChoiceSetting>(_ key: String, _ path: WritableKeyPath<TrainConfig, T> & Sendable,
                                         onResume: OnResume = .free, help: String) -> Setting {
        value(key, path, type: T.choices, onResume: onResume, help: help)
    }

    static func int(_ key: String, _ path: WritableKeyPath<TrainConfig, Int> & Sendable, atLeast minimum: Int,
                    onResume: OnResume = .free, help: String) -> Setting {
        value(key, path, type: "int", valid: { $0 >= minimum }, range: ">= \(minimum)", onResume: onResume, help: help)
    }

    static func float(_ key: String, _ path: WritableKeyPath<TrainConfig, Double> & Sendable, _ range: FloatRange,
                      onResume: OnResume = .free, help: String) -> Setting {
        value(key, path, type: "float", valid: range.contains, range: range.text, onResume: onResume, help: help)
    }

    static func flag(_ key: String, _ path: WritableKeyPath<TrainConfig, Bool> & Sendable,
                     onResume: OnResume = .free, help: String) -> Setting {
        value(key, path, type: "true | false", onResume: onResume, help: help)
    }

    /// A value as YAML writes it on one line: `1e-3`, `[100, 200]`.
    public static func text(_ node: Node) -> String {
        if let scalar = node.scalar { return scalar.string }
        if let sequence = node.sequence { return "[" + sequence.map(text).joined(separator: ", ") + "]" }
        return (try? Yams.serialize(node: node).trimmingCharacters(in: .whitespacesAndNewlines)) ?? "?"
    }
}

/// The valid values of a float setting (always finite).
struct FloatRange: Sendable {
    let text: String
    let contains: @Sendable (Double) -> Bool

    /// x > 0
    static let positive = FloatRange(text: "> 0") { $0 > 0 }
    /// x >= 0
    static let nonNegative = FloatRange(text: ">= 0") { $0 >= 0 }
    /// 0 <= x < 1 (a decay or a beta)
    static let unitInterval = FloatRange(text: "in [0, 1)") { $0 >= 0 && $0 < 1 }
}
