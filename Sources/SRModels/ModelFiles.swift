// Networks to and from safetensors, tensor names as PyTorch's state_dict(): parameters and batch
// norm running statistics as F32, `num_batches_tracked` as an I64 scalar, so a generator written
// here loads into the PyTorch reference with load_state_dict(strict=True), and the reverse.

import Foundation
import SRCore

extension Network {
    /// Every name of the state_dict, in the order they are written.
    public var stateDictNames: [String] {
        parameters.layout.map(\.name) + buffers.layout.map(\.name)
            + batchNorms.map { "\($0.name).num_batches_tracked" }
    }

    /// Adds every tensor of the state_dict to `writer`, each name prefixed by `prefix`.
    public func addStateDict(to writer: inout SafetensorsWriter, prefix: String = "") {
        for store in [parameters, buffers] {
            store.withValues { values in
                for slot in store.layout {
                    writer.add(prefix + slot.name, floats: UnsafeBufferPointer(rebasing: values[slot.offset..<(slot.offset + slot.count)]),
                               shape: slot.shape)
                }
            }
        }
        for bn in batchNorms {
            writer.add("\(prefix)\(bn.name).num_batches_tracked", int64s: [Int64(bn.numBatchesTracked)], shape: [])
        }
    }

    /// Writes the state_dict to `path` atomically.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        var writer = SafetensorsWriter(metadata: metadata)
        addStateDict(to: &writer)
        try writer.write(to: path)
    }

    /// Loads tensors named `prefix + name` from `file`. With `strict`, the file must hold exactly
    /// this network's state_dict (like PyTorch's strict loading); without it, extra tensors are
    /// ignored and `num_batches_tracked` may be absent. Every problem is listed in one error.
    public func load(from file: SafetensorsFile, prefix: String = "", strict: Bool = true) throws {
        var missing: [String] = [], reshaped: [String] = [], retyped: [String] = []
        var expected = Set<String>()
        for store in [parameters, buffers] {
            for slot in store.layout {
                let name = prefix + slot.name
                expected.insert(name)
                guard let entry = file.entry(name) else {
                    missing.append(name)
                    continue
                }
                if entry.shape != slot.shape {
                    reshaped.append("\(name) has shape \(entry.shape), expected \(slot.shape)")
                } else if ![.F32, .F16, .BF16, .F64].contains(entry.dtype) {
                    retyped.append("\(name) is \(entry.dtype.rawValue), expected a float type")
                }
            }
        }
        for bn in batchNorms {
            let name = "\(prefix)\(bn.name).num_batches_tracked"
            expected.insert(name)
            if let entry = file.entry(name) {
                if entry.count != 1 || ![.I64, .I32].contains(entry.dtype) {
                    retyped.append("\(name) is \(entry.dtype.rawValue) \(entry.shape), expected an I64 scalar")
                }
            } else if strict {
                missing.append(name)
            }
        }
        let unexpected = strict
            ? file.entries.map(\.name).filter { $0.hasPrefix(prefix) && !expected.contains($0) }.sorted() : []
        if !(missing.isEmpty && reshaped.isEmpty && retyped.isEmpty && unexpected.isEmpty) {
            func group(_ items: [String], _ label: String) -> String? {
                guard !items.isEmpty else { return nil }
                let more = items.count > 3 ? ", ..." : ""
                return "\(items.count) \(label) (\(items.prefix(3).joined(separator: ", "))\(more))"
            }
            let groups = [group(reshaped, "with another shape"), group(missing, "missing"),
                          group(unexpected, "unexpected"), group(retyped, "with another dtype")].compactMap { $0 }
            throw ModelFileError(file: file.path, problem: "does not match \(summary): tensors " + groups.joined(separator: "; "),
                                 hint: "the file was written for another network shape or is another network; check the configuration it was trained with")
        }
        for store in [parameters, buffers] {
            for slot in store.layout {
                let loaded = try file.floats(prefix + slot.name)
                store.withValues { values in _ = values[slot.offset..<(slot.offset + slot.count)].update(fromContentsOf: loaded) }
            }
            store.valuesChanged()
        }
        for bn in batchNorms {
            let name = "\(prefix)\(bn.name).num_batches_tracked"
            guard let entry = file.entry(name), [.I64, .I32, .I16, .I8, .U8].contains(entry.dtype) else { continue }  // as before: optional
            let counter = try file.integers(name)
            guard counter.count == 1, counter[0] >= 0 else {
                throw ModelFileError(file: file.path, problem: "tensor '\(name)' holds \(counter) (one count >= 0)",
                                     hint: "the file is damaged or was edited; write or convert it again")
            }
            bn.numBatchesTracked = Int(counter[0])
        }
    }
}

extension VGG19Features {
    /// Loads torchvision VGG19 weights (`features.{i}.weight`, `features.{i}.bias`) from a
    /// safetensors file the user supplies. Tensors beyond the truncation point (and the
    /// classifier) may be present and are ignored.
    public func loadWeights(path: String) throws {
        let hint = "convert torchvision's VGG19 weights with scripts/convert_vgg19.py (see docs/vgg19-weights.md)"
        let lowered = path.lowercased()
        if lowered.hasSuffix(".pth") || lowered.hasSuffix(".pt") || lowered.hasSuffix(".pkl") {
            throw ModelFileError(file: path, problem: "a PyTorch pickle, not safetensors", hint: hint)
        }
        if !FileManager.default.fileExists(atPath: path) {
            throw ModelFileError(file: path, problem: "VGG19 weights file not found", hint: hint)
        }
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(path: path)
        } catch let error as ModelFileError {
            throw ModelFileError(file: error.file, problem: error.problem, hint: hint)
        }
        do {
            try load(from: file, strict: false)
        } catch let error as ModelFileError {
            throw ModelFileError(file: error.file, problem: error.problem,
                                 hint: "expected torchvision's VGG19 names and shapes; " + hint)
        }
    }
}
