import Yams

/// A YAML node with its source mark (Yams' `Node`; the model has a `Node` of its own).
typealias YAMLNode = Yams.Node
