Console.WriteLine("gateway");
