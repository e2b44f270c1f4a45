/// What a key's value may be, checked on the host before it reaches
/// generated code or a device tree, for configure-time and boot-time keys alike.
public enum KeyValues {
    /// An Int on the unikernel's side: Swift's Int on 32-bit ARM.
    public static let targetInts = Int(Int32.min)...Int(Int32.max)

    public static let trueWords = ["true", "yes", "on", "1"]
    public static let falseWords = ["false", "no", "off", "0"]

    /// Why `text` is not a value of a key of this type and these limits, or nil.
    public static func problem(with text: String, type: ConfigModel.KeyType, minimum: Int?, maximum: Int?,
                               choices: [String]?) -> String? {
        switch type {
        case .string:
            if let choices, !choices.contains(text) { return "it is one of: \(choices.joined(separator: ", "))" }
            return nil
        case .bool:
            return trueWords.contains(text) || falseWords.contains(text) ? nil : "it is true or false"
        case .int:
            let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }), let number = Int(text) else {
                return "it is a whole number, such as 3 (digits, with a '-' if negative)"
            }
            let range = max(minimum ?? targetInts.lowerBound, targetInts.lowerBound)...min(maximum ?? targetInts.upperBound, targetInts.upperBound)
            guard range.contains(number) else {
                return minimum == nil && maximum == nil
                    ? "it is a 32-bit whole number (an Int on ARM): \(targetInts.lowerBound)...\(targetInts.upperBound)"
                    : "it lies in \(range.lowerBound)...\(range.upperBound)"
            }
            return nil
        }
    }
}
